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
