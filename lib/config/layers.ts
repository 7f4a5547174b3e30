/**
 * A source of settings as a layer: the values it sets, each with where it came from. Layers are stacked
 * by `resolveSettings` (defaults < settings file < `.tags` < environment < flags); the highest layer that
 * sets a setting gives its whole value (lists are not merged across sources).
 */
import { UsageError } from "../errors.js";
import { type ListForm, parseBool, parseList } from "./parse.js";
import { SETTINGS, type SettingKey, type SettingSpec, type SettingValue, SPEC_BY_KEY } from "./schema.js";
import type { RunContext, SettingSource, Settings } from "./settings.js";

export interface Resolved {
  value: SettingValue;
  source: SettingSource;
}

export type Layer = Map<SettingKey, Resolved>;

/**
 * A flag as given on the command line. Values are raw strings (or true for a switch), parsed by the
 * resolver. Its shape is the resolver's: cli/ fills it in, so config/ needs nothing from cli/.
 */
export interface FlagValue {
  setting: keyof Settings;
  flag: string;
  value: string | string[] | boolean;
}

/** A value as a source wrote it, before parsing: a string, or a list of items (an INI `key[]` array). */
interface RawValue {
  raw: string | string[];
  /** Names the value in errors: `PLUGIN_DRY_RUN`, `dry_run in stage.ini [step "build"]`. */
  origin: string;
  source: SettingSource;
}

/** Raw values of one source by the variable they stand for (`PLUGIN_TAGS`, ...). */
export type RawLayer = Map<string, RawValue>;

/** The value of one variable, parsed for its setting. */
function parseValue(spec: SettingSpec, form: ListForm | undefined, value: RawValue): SettingValue {
  const { raw, origin } = value;
  if (Array.isArray(raw)) {
    if (spec.kind !== "list")
      throw new UsageError(`${origin} is given as a list (key[] = ...), but it takes one value`);
    return raw.map((item) => item.trim()).filter((item) => item !== "");
  }
  if (spec.kind === "bool") return parseBool(raw, origin);
  if (spec.kind === "list") return parseList(raw, form ?? spec.form ?? "comma", origin);
  // Values from a fixed set are compared case-insensitively (`OCI` is `oci`).
  if (spec.oneOf) return raw.trim().toLowerCase();
  return raw;
}

function joinSources(sources: SettingSource[]): SettingSource {
  const first = sources[0] as SettingSource;
  if (sources.length === 1 || first.kind !== "env") return first;
  return { kind: "env", name: sources.map((s) => (s.kind === "env" ? s.name : "")).join(" + ") };
}

/**
 * Settles one source: for each setting, the first of its variables that the source has (urfave/cli's
 * order), or with `concat` all of them joined.
 */
export function settle(raw: RawLayer): Layer {
  const layer: Layer = new Map();
  for (const spec of SETTINGS) {
    if (spec.concat) {
      const values: string[] = [];
      const sources: SettingSource[] = [];
      for (const name of spec.env) {
        const value = raw.get(name.name);
        if (!value) continue;
        values.push(...(parseValue(spec, name.form, value) as string[]));
        sources.push(value.source);
      }
      if (sources.length > 0) layer.set(spec.key, { value: values, source: joinSources(sources) });
      continue;
    }
    for (const name of spec.env) {
      const value = raw.get(name.name);
      if (!value) continue;
      layer.set(spec.key, { value: parseValue(spec, name.form, value), source: value.source });
      break;
    }
  }
  return layer;
}

/** Every variable name the settings read (for the environment and the settings file). */
export const KNOWN_ENV_NAMES: readonly string[] = SETTINGS.flatMap((spec) => spec.env.map((e) => e.name));

/**
 * The environment as a raw layer. An empty variable counts as unset: the Drone runner exports settings
 * the pipeline left empty as empty strings, and an empty value must not hide a fall-back or default.
 */
export function environmentLayer(env: NodeJS.ProcessEnv): RawLayer {
  return environmentVariables(env, KNOWN_ENV_NAMES);
}

/** The variables `names` of the environment as a raw layer, empty ones left out (see environmentLayer). */
export function environmentVariables(env: NodeJS.ProcessEnv, names: Iterable<string>): RawLayer {
  const raw: RawLayer = new Map();
  for (const name of names) {
    const value = env[name];
    if (value === undefined || value === "") continue;
    raw.set(name, { raw: value, origin: name, source: { kind: "env", name } });
  }
  return raw;
}

/**
 * The command line's flags as a layer. A repeatable flag's values are items, kept whole (commas and all);
 * a single value of a list setting (e.g. `--platform a,b`) is split like the variable's.
 */
export function flagLayer(flags: FlagValue[]): Layer {
  const layer: Layer = new Map();
  for (const flag of flags) {
    const spec = SPEC_BY_KEY.get(flag.setting as SettingKey);
    if (!spec) continue;
    const source: SettingSource = { kind: "flag", name: flag.flag };
    let value: SettingValue;
    if (typeof flag.value === "boolean") {
      if (spec.kind !== "bool") throw new UsageError(`${flag.flag} needs a value`);
      value = flag.value;
    } else if (Array.isArray(flag.value) && spec.kind !== "list") {
      value = parseValue(spec, undefined, { raw: flag.value.at(-1) ?? "", origin: flag.flag, source });
    } else {
      value = parseValue(spec, undefined, { raw: flag.value, origin: flag.flag, source });
    }
    layer.set(spec.key, { value, source });
  }
  return layer;
}

/** The built-in defaults (the plugin's) as a layer. */
export function defaultLayer(): Layer {
  const layer: Layer = new Map();
  for (const spec of SETTINGS) {
    if (spec.default === undefined) continue;
    // A fresh list each time: a run's settings must not share (and change) the table's.
    const value = typeof spec.default === "object" ? [...spec.default] : spec.default;
    layer.set(spec.key, { value, source: { kind: "default" } });
  }
  return layer;
}

/**
 * The settings a layer's values make. The one place a value becomes a field of {@link Settings}: the
 * type is derived from the table whose rows parsed the values (by kind), so each value has its row's type.
 */
export function settingsOf(layer: Layer, run: RunContext): Settings {
  const values: Record<string, unknown> = { run };
  for (const [key, { value }] of layer) values[key] = value;
  return values as unknown as Settings;
}

/** The settings with nothing set: the plugin's defaults, and no CI context. */
export function defaultSettings(): Settings {
  return settingsOf(defaultLayer(), {});
}
