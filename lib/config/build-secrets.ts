/**
 * The build's secrets (`PLUGIN_SECRET`, `PLUGIN_SECRETS_FROM_ENV`, `PLUGIN_SECRETS_FROM_FILE`) as buildx's
 * `--secret` values. Validation parses them before anything runs (config/parsed.ts), so the build's
 * argument list, which reads them here too, never fails on them. No secret value is part of them: buildx
 * reads an env secret from its environment.
 */
import { UsageError } from "../errors.js";
import type { Settings } from "./settings.js";

/** `id=VALUE` split at the first `=`; both parts must be non-empty. */
function idAndValue(item: string, setting: string, example: string): [string, string] {
  const at = item.indexOf("=");
  const id = at < 0 ? "" : item.slice(0, at).trim();
  const value = at < 0 ? "" : item.slice(at + 1).trim();
  if (id === "" || value === "") {
    throw new UsageError(`${setting}: "${item}" is not of the form ${example}`);
  }
  return [id, value];
}

/** `--secret` values: the raw `PLUGIN_SECRET`, then env secrets, then file secrets. */
export function secretArgs(
  settings: Pick<Settings, "secret" | "secretsFromEnv" | "secretsFromFile">,
): string[] {
  const values: string[] = [];
  if (settings.secret && settings.secret.trim() !== "") values.push(settings.secret.trim());
  for (const item of settings.secretsFromEnv) {
    const [id, name] = idAndValue(item, "PLUGIN_SECRETS_FROM_ENV", "id=ENV_VARIABLE");
    values.push(`id=${id},env=${name}`);
  }
  for (const item of settings.secretsFromFile) {
    const [id, path] = idAndValue(item, "PLUGIN_SECRETS_FROM_FILE", "id=/path/to/file");
    values.push(`id=${id},src=${path}`);
  }
  return values;
}
