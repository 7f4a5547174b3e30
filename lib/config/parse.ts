/**
 * Parsing of raw setting values (strings from the environment, the settings file or flags) into booleans
 * and lists, the way the Drone/Harness buildx plugin reads them. Pure functions.
 */
import { UsageError } from "../errors.js";

/**
 * How a list setting is written in one string.
 * - `comma`: urfave/cli's `StringSliceFlag` (`a,b`); also what the Drone runner makes of a YAML list.
 * - `semicolon`: the plugin's `CustomStringSliceFlag` (`a;b`), for values that contain commas
 *   (`type=registry,ref=...`).
 * - `keyValue`: a comma list that may also be given as a JSON object (`{"KEY":"a,b"}` → `KEY=a,b`): the
 *   Drone runner sends a YAML map setting (build args, labels) as JSON.
 * Every form also accepts a JSON array (`["a,b","c"]`), which keeps commas whole: the runner sends a
 * setting written as JSON that way.
 */
export type ListForm = "comma" | "semicolon" | "keyValue";

/** What `strconv.ParseBool` accepts, in any case (the issue asks for case-insensitive). */
const TRUE = new Set(["true", "1", "t"]);
const FALSE = new Set(["false", "0", "f"]);

/**
 * A boolean as the plugin accepts it (Go's `strconv.ParseBool`: `true/false/1/0/t/f`), here in any case.
 * `origin` names where the value came from (an env variable, a file key, a flag), for the error.
 */
export function parseBool(value: string, origin: string): boolean {
  const normalized = value.trim().toLowerCase();
  if (TRUE.has(normalized)) return true;
  if (FALSE.has(normalized)) return false;
  throw new UsageError(
    `${origin} is ${JSON.stringify(value)}, which is not a boolean: use true or false (also accepted: 1/0, t/f, any case)`,
  );
}

/** A JSON array or object in `value`, if that is what it is; undefined for anything else. */
function parseJson(value: string): unknown {
  const trimmed = value.trim();
  if (
    !(trimmed.startsWith("[") && trimmed.endsWith("]")) &&
    !(trimmed.startsWith("{") && trimmed.endsWith("}"))
  )
    return undefined;
  try {
    return JSON.parse(trimmed) as unknown;
  } catch {
    // Not JSON after all (e.g. an IPv6 address in brackets): the plain form applies.
    return undefined;
  }
}

function scalar(item: unknown, origin: string): string {
  if (typeof item === "string") return item;
  if (typeof item === "number" || typeof item === "boolean") return String(item);
  throw new UsageError(
    `${origin}: the JSON list may hold only strings, numbers and booleans, not ${JSON.stringify(item)}`,
  );
}

/** Splits on `separator`, trims each item and drops empty ones (`a, b,` is `[a, b]`). */
function split(value: string, separator: string): string[] {
  return value
    .split(separator)
    .map((item) => item.trim())
    .filter((item) => item !== "");
}

/** A list setting's value in one string, in the given form (see {@link ListForm}). */
export function parseList(value: string, form: ListForm, origin: string): string[] {
  const json = parseJson(value);
  if (Array.isArray(json)) return json.map((item) => scalar(item, origin)).filter((item) => item !== "");
  if (json !== null && typeof json === "object" && form === "keyValue") {
    return Object.entries(json).map(([key, item]) => `${key}=${scalar(item, origin)}`);
  }
  return split(value, form === "semicolon" ? ";" : ",");
}
