/**
 * The line of buildx's output that says why it failed, to quote in our own error message. buildx ends a
 * failed build with `ERROR: <cause>` (often followed by advice lines, e.g. "Switch to a different
 * driver..."); a failed `docker` command says `Error response from daemon: ...` or `error: ...`.
 */

/** CSI and OSC escape sequences, as buildx's tty progress writes them. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: escape sequences are what is being removed
const ANSI = /\u001b\[[0-?]*[ -/]*[@-~]|\u001b\][^\u0007\u001b]*(?:\u0007|\u001b\\)/g;

export function stripAnsi(text: string): string {
  return text.replace(ANSI, "");
}

const ERROR_LINE = /^(?:#\d+\s+)?(?:ERROR|error|Error response from daemon)\b[:\s]/;

/**
 * The last error line of `lines` (buildx's `ERROR:` line without a step prefix preferred), else the last
 * non-empty line; undefined when there is no output at all.
 */
export function lastErrorLine(lines: readonly string[]): string | undefined {
  const clean = lines.map((line) => stripAnsi(line).replace(/\r/g, "").trim()).filter((line) => line !== "");
  // buildx repeats the step's error as a final, unprefixed `ERROR: failed to solve: ...`: that is the cause.
  for (let i = clean.length - 1; i >= 0; i--) {
    const line = clean[i] as string;
    if (ERROR_LINE.test(line) && !line.startsWith("#")) return line;
  }
  for (let i = clean.length - 1; i >= 0; i--) {
    const line = clean[i] as string;
    if (ERROR_LINE.test(line)) return line;
  }
  return clean.at(-1);
}

/** Keeps the last `size` lines of a stream written in arbitrary chunks. */
export class LineTail {
  private readonly lines: string[] = [];
  private partial = "";
  constructor(private readonly size = 64) {}

  push(chunk: string): void {
    const parts = (this.partial + chunk).split("\n");
    this.partial = parts.pop() ?? "";
    for (const line of parts) this.add(line);
  }

  /** Every kept line, the unfinished last one included. */
  snapshot(): string[] {
    return this.partial === "" ? [...this.lines] : [...this.lines, this.partial];
  }

  private add(line: string): void {
    this.lines.push(line);
    if (this.lines.length > this.size) this.lines.shift();
  }
}
