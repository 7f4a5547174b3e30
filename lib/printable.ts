/**
 * Text from outside (a registry's error body, the names a tarball records, an engine's message) printed
 * as text, never as terminal commands: an escape sequence could clear the screen or rewrite a line
 * already shown, a carriage return or a line break could make a line look like one this tool wrote
 * ("pushed ... at sha256:..."), and bidirectional controls could show characters in another order than
 * they are. Such characters are shown escaped (`\x1b`, `\n`, `\u202e`). Pure.
 */

/**
 * C0 controls and DEL, C1 controls, the Unicode line and paragraph separators, and the bidirectional
 * marks, embeddings, overrides and isolates.
 */
function isControl(code: number): boolean {
  return (
    code <= 0x1f ||
    (code >= 0x7f && code <= 0x9f) ||
    code === 0x2028 ||
    code === 0x2029 ||
    code === 0x200e ||
    code === 0x200f ||
    (code >= 0x202a && code <= 0x202e) ||
    (code >= 0x2066 && code <= 0x2069)
  );
}

function escaped(code: number): string {
  if (code === 0x0a) return "\\n";
  if (code === 0x0d) return "\\r";
  if (code === 0x09) return "\\t";
  return code <= 0xff
    ? `\\x${code.toString(16).padStart(2, "0")}`
    : `\\u${code.toString(16).padStart(4, "0")}`;
}

function replaceControls(text: string, keepLines: boolean): string {
  let out = "";
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (!isControl(code) || (keepLines && (code === 0x0a || code === 0x09))) continue;
    out += text.slice(start, i) + escaped(code);
    start = i + 1;
  }
  return start === 0 ? text : out + text.slice(start);
}

/** A value from outside, on one line: every control character escaped, line breaks and tabs too. */
export function printableValue(text: string): string {
  return replaceControls(text, false);
}

/** A line (or lines) of the log: control characters escaped, its own line breaks and tabs kept. */
export function printableLines(text: string): string {
  return replaceControls(text, true);
}
