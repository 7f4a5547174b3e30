/** The values of the secret settings (the schema's `secret: true`), for the logger to mask. */
import { SETTINGS } from "./schema.js";
import type { Settings } from "./settings.js";

export function secretValues(settings: Settings): string[] {
  const values: string[] = [];
  for (const spec of SETTINGS) {
    if (!spec.secret) continue;
    const value = settings[spec.key];
    if (typeof value === "string" && value !== "") values.push(value);
  }
  return values;
}

/** The values the environment gives the secret settings' variables (aliases included), resolved or not. */
export function secretEnvValues(env: NodeJS.ProcessEnv): string[] {
  const values: string[] = [];
  for (const spec of SETTINGS) {
    if (!spec.secret) continue;
    for (const { name } of spec.env) {
      const value = env[name];
      if (value) values.push(value);
    }
  }
  return values;
}
