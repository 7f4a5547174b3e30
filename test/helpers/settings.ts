import { defaultSettings } from "../../lib/config/layers.js";
import { parseSettings } from "../../lib/config/parsed.js";
import { settingName } from "../../lib/config/provenance.js";
import type { SettingSource, Settings, ValidatedSettings } from "../../lib/config/settings.js";
import { UsageError } from "../../lib/errors.js";

/** Settings as the resolver gives them with nothing set (the plugin's defaults), with `overrides` on top. */
export function testSettings(overrides: Partial<Settings> = {}): Settings {
  return { ...defaultSettings(), ...overrides };
}

/**
 * Resolved settings whose `explicit` keys count as set by the user (env), the rest as defaults, with
 * their structured values parsed as validation parses them: a bad repo, tag or digest is refused here
 * (UsageError, exit 2), as resolveSettings refuses it before any mode runs.
 */
export function testResolved(
  overrides: Partial<Settings> = {},
  explicit: (keyof Settings)[] = Object.keys(overrides) as (keyof Settings)[],
): ValidatedSettings {
  const settings = testSettings(overrides);
  const sources: Partial<Record<keyof Settings, SettingSource>> = {};
  for (const key of Object.keys(settings) as (keyof Settings)[]) {
    sources[key] = explicit.includes(key)
      ? { kind: "env", name: `PLUGIN_${key.toUpperCase()}` }
      : { kind: "default" };
  }
  const parsed = parseSettings(
    settings,
    (key) => settingName(key, sources),
    (message) => {
      throw new UsageError(message);
    },
  );
  return { settings, sources, warnings: [], parsed };
}
