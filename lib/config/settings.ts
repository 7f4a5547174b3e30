/**
 * The resolved settings of one run: a plain typed object, made once by `resolveSettings` (lib/config)
 * from defaults, the stage settings file, the environment and flags, and read by every mode. Its type
 * is the schema's table (lib/config/schema.ts): each setting's kind, default and allowed values give its
 * field's type, so the table, the type and the defaults cannot drift apart.
 *
 * Names follow the Drone/Harness buildx plugin's settings (`PLUGIN_<NAME>`), in camelCase.
 */
import type { ParsedSettings } from "./parsed.js";
import type { SettingValues } from "./schema.js";

/** The run's context from the CI system (`DRONE_*`, `HARNESS_*`), used by auto tags and auto labels. */
export interface RunContext {
  commitSha?: string;
  commitRef?: string;
  commitBranch?: string;
  commitTag?: string;
  buildNumber?: string;
  buildCreated?: string;
  repoLink?: string;
  repoBranch?: string;
  remoteUrl?: string;
  stepName?: string;
}

export interface Settings extends SettingValues {
  run: RunContext;
}

export type OutputFormat = Settings["outputFormat"];

/** Where a resolved value came from; `buildx-step config` shows it. */
export type SettingSource = (
  | { kind: "default" }
  | { kind: "file"; path: string; section: string }
  | { kind: "env"; name: string }
  | { kind: "flag"; name: string }
) & {
  /** How the plugin's rules changed the value from what the source gave (`joined with PLUGIN_REGISTRY`). */
  note?: string;
};

export interface ResolvedSettings {
  settings: Settings;
  sources: Partial<Record<keyof Settings, SettingSource>>;
  /** Settings accepted but ignored, or otherwise worth a warning; printed once before the run. */
  warnings: string[];
  /**
   * Set when the plugin would not build at all (PLUGIN_AUTO_TAG on a ref that is neither a tag nor the
   * default branch): the reason, which the mode prints before it exits 0 without building.
   */
  skip?: string;
  /** Where each field of `settings.run` came from (`DRONE_COMMIT_REF`, `--step`, ...). */
  runSources?: Partial<Record<keyof RunContext, SettingSource>>;
  /**
   * The environment the run works in: the process's, with `PLUGIN_ENV_FILE`'s variables added where unset,
   * as the plugin's `godotenv.Load` adds them to its own environment (proxies and PLUGIN_BUILD_ARGS_FROM_ENV
   * read from it too). Undefined: the process's environment as it is.
   */
  env?: NodeJS.ProcessEnv;
}

/** Resolved settings that passed validation, with their structured values parsed: what a mode runs on. */
export interface ValidatedSettings extends ResolvedSettings {
  parsed: ParsedSettings;
}
