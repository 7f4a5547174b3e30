/** How a setting and its source are named to a user: in `config`, in validation messages, in warnings. */
import { primaryEnvName, type SettingKey } from "./schema.js";
import type { ResolvedSettings, SettingSource } from "./settings.js";

/** `default`, `env PLUGIN_NO_PUSH`, `file stage.ini [step "build"]`, `flag --tag`. */
export function describeSource(source: SettingSource | undefined): string {
  if (!source) return "unset";
  const where = describeOrigin(source);
  return source.note ? `${where}, ${source.note}` : where;
}

function describeOrigin(source: SettingSource): string {
  switch (source.kind) {
    case "default":
      return "default";
    case "env":
      return `env ${source.name}`;
    case "file":
      return source.section === "" ? `file ${source.path}` : `file ${source.path} [${source.section}]`;
    case "flag":
      return `flag ${source.name}`;
  }
}

/**
 * The setting as the user set it, for messages: the variable (`PLUGIN_NO_PUSH`), the flag (`--dry-run`),
 * or the file key with its file; the main variable when it was not set.
 */
export function settingName(key: SettingKey, sources: ResolvedSettings["sources"]): string {
  const source = sources[key];
  const primary = primaryEnvName(key);
  if (!source || source.kind === "default") return primary;
  if (source.kind === "env") return source.name;
  if (source.kind === "flag") return `${primary} (flag ${source.name})`;
  return `${primary} (${describeSource(source)})`;
}

/** How a mode names a setting in its messages: `PLUGIN_SOURCE_IMAGE` in plugin mode, `--source-image` on the command line. */
export type SettingNames = (key: SettingKey) => string;

/** The variables' names: what plugin mode, and any caller that knows no better, says. */
export const pluginSettingNames: SettingNames = (key) => primaryEnvName(key);

/**
 * The name the user knows each setting by: the flag when a flag set it, the variable when the
 * environment or a settings file did, and when it is unset, `flagOf(key)` (the flag of the command that
 * runs, in CLI mode) or else its main variable.
 */
export function userSettingNames(
  sources: ResolvedSettings["sources"],
  flagOf: (key: SettingKey) => string | undefined = () => undefined,
): SettingNames {
  return (key) => {
    const source = sources[key];
    // The tarball argument of `push` is a positional argument, recorded as "[tarball]".
    if (source?.kind === "flag")
      return source.name.startsWith("[") ? `the ${source.name.slice(1, -1)} argument` : source.name;
    if (source?.kind === "env") return source.name;
    if (source && source.kind !== "default") return primaryEnvName(key);
    return flagOf(key) ?? primaryEnvName(key);
  };
}
