/**
 * A Google service account key as `PLUGIN_JSON_KEY` gives it: the key file's JSON, or that JSON in base64.
 * The GCR and GAR wrappers try a standard base64 decoding and use the decoded bytes whenever it succeeds
 * (drone-buildx-gcr `setUsernameAndPassword`: `base64.StdEncoding.DecodeString`, which skips line breaks).
 * Here the two forms are told apart by their first character instead, since the key is a JSON object and
 * `{` is no base64 character: text that starts with `{` is the key, anything else must be base64 of it.
 * A value that is neither is refused rather than sent to the registry as a password it will reject. Pure.
 */

type JsonKeyForm = "json" | "base64";

type DecodedJsonKey =
  | { ok: true; form: JsonKeyForm /** The key's JSON text, as the registry wants it. secret */; text: string }
  | { ok: false /** Why the value is no key, without any of its text. */; reason: string };

/** Standard base64 with its padding, as Go's StdEncoding reads it (line breaks are skipped). */
const STANDARD_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Whether `text` is a JSON object (a key file is one). */
function isJsonObject(text: string): boolean {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === "object" && value !== null && !Array.isArray(value);
  } catch {
    return false;
  }
}

/** The key in `value`: its JSON text as given, or decoded from base64. */
export function decodeJsonKey(value: string): DecodedJsonKey {
  const trimmed = value.trim();
  if (trimmed.startsWith("{")) {
    return isJsonObject(trimmed)
      ? { ok: true, form: "json", text: value }
      : { ok: false, reason: 'starts with "{" but is not a JSON object' };
  }
  const compact = trimmed.replace(/[\r\n]/g, "");
  if (compact === "" || !STANDARD_BASE64.test(compact)) {
    return { ok: false, reason: "is neither the key's JSON nor standard base64 of it" };
  }
  const decoded = Buffer.from(compact, "base64").toString("utf8");
  if (!decoded.trim().startsWith("{") || !isJsonObject(decoded.trim())) {
    return { ok: false, reason: "is base64, but of something that is not the key's JSON" };
  }
  return { ok: true, form: "base64", text: decoded };
}
