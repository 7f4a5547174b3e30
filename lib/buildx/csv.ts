/**
 * buildx reads several of its option values as one CSV record (`--driver-opt`, `--cache-from`,
 * `--cache-to`: Go's encoding/csv, or csvvalue in newer buildx): fields split at commas, a field in double
 * quotes may hold commas, and a doubled quote is a quote. Pure.
 */

/** One field, quoted when it holds a comma, a quote or a line break. */
export function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

/** The fields of one record (`a=1,"b=2,3"` is `a=1` and `b=2,3`). */
export function csvFields(value: string): string[] {
  const fields: string[] = [];
  let field = "";
  let quoted = false;
  for (let i = 0; i < value.length; i++) {
    const char = value[i];
    if (quoted) {
      if (char === '"' && value[i + 1] === '"') {
        field += '"';
        i++;
      } else if (char === '"') quoted = false;
      else field += char;
    } else if (char === '"') quoted = true;
    else if (char === ",") {
      fields.push(field);
      field = "";
    } else field += char;
  }
  fields.push(field);
  return fields;
}

/** `key=value` fields as pairs; the key in lower case, as buildx reads cache attributes. */
export function csvAttributes(value: string): { key: string; value: string | undefined }[] {
  return csvFields(value).map((field) => {
    const at = field.indexOf("=");
    return at < 0
      ? { key: field.trim().toLowerCase(), value: undefined }
      : { key: field.slice(0, at).trim().toLowerCase(), value: field.slice(at + 1) };
  });
}
