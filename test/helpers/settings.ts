import { defaultSettings } from "../../lib/config/layers.js";
import type { ResolvedSettings, SettingSource, Settings } from "../../lib/config/settings.js";

/** Settings as the resolver gives them with nothing set (the plugin's defaults), with `overrides` on top. */
export function testSettings(overrides: Partial<Settings> = {}): Settings {
  return { ...defaultSettings(), ...overrides };
}

/** Resolved settings whose `explicit` keys count as set by the user (env), the rest as defaults. */
export function testResolved(
  overrides: Partial<Settings> = {},
  explicit: (keyof Settings)[] = Object.keys(overrides) as (keyof Settings)[],
): ResolvedSettings {
  const settings = testSettings(overrides);
  const sources: Partial<Record<keyof Settings, SettingSource>> = {};
  for (const key of Object.keys(settings) as (keyof Settings)[]) {
    sources[key] = explicit.includes(key)
      ? { kind: "env", name: `PLUGIN_${key.toUpperCase()}` }
      : { kind: "default" };
  }
  return { settings, sources, warnings: [] };
}
