import { primaryEnvName, SETTINGS } from "../../lib/config/schema.js";

/**
 * Whether a refusal names the setting whose main variable is `primary`: its message, or the `setting` that
 * `--json` shows, by `primary` or any variable of the setting (an alias the user set, such as GCR_JSON_KEY).
 */
export function namesSetting(error: { message: string; setting?: string }, primary: string): boolean {
  const spec = SETTINGS.find((s) => primaryEnvName(s.key) === primary);
  const names = [primary, ...(spec?.env.map((e) => e.name) ?? [])];
  return names.some((name) => error.message.includes(name) || error.setting === name);
}
