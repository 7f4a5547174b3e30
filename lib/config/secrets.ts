/**
 * The values of the secret settings (the schema's `secret`, and `secretWhen` for a value that is a key's
 * content rather than its path), for the logger to mask.
 */

import { urlPasswordsIn } from "../url-credentials.js";
import { isPemContent, isSecretValue, SETTINGS } from "./schema.js";
import type { Settings } from "./settings.js";

/**
 * A secret as the mask should know it: whole, and for a PEM block each line of its body too, since a
 * message that quotes a key (a parser's error, a wrapped line) may carry one line without the others.
 */
function spellingsOf(value: string): string[] {
  if (!isPemContent(value)) return [value];
  const lines = value
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== "" && !line.startsWith("-----"));
  return [value, ...lines];
}

export function secretValues(settings: Settings): string[] {
  const values: string[] = [];
  for (const spec of SETTINGS) {
    const value = settings[spec.key];
    // A password in a URL of any setting (a build arg, a cache or builder address), as `config` masks it.
    for (const text of Array.isArray(value) ? value : [value]) {
      if (typeof text === "string") values.push(...urlPasswordsIn(text));
    }
    if (typeof value !== "string" || value === "" || !isSecretValue(spec, value)) continue;
    values.push(...spellingsOf(value));
  }
  return values;
}

/** The values the environment gives the secret settings' variables (aliases included), resolved or not. */
export function secretEnvValues(env: NodeJS.ProcessEnv): string[] {
  const values: string[] = [];
  for (const spec of SETTINGS) {
    if (!spec.secret && !spec.secretWhen) continue;
    for (const { name } of spec.env) {
      const value = env[name];
      if (value && isSecretValue(spec, value)) values.push(...spellingsOf(value));
    }
  }
  return values;
}
