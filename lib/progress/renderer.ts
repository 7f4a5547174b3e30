/**
 * The one progress renderer of a run, chosen once: bars on a terminal, plain lines in CI logs (stderr
 * is not a terminal, or CI is set), nothing with --quiet. It writes to stderr only: stdout is for --json.
 */
import { isCi } from "./ci.js";
import { ignoreProgress, type ProgressSink } from "./events.js";
import { createLineRenderer } from "./lines.js";

type RenderMode = "bars" | "lines" | "none";

interface ProgressRenderer {
  sink: ProgressSink;
  /** Ends the bars (or prints the last total line); call once when the work is over, also on failure. */
  finish(): void;
}

export function renderModeFor(options: {
  quiet: boolean;
  isTTY: boolean;
  env: NodeJS.ProcessEnv;
}): RenderMode {
  if (options.quiet) return "none";
  return options.isTTY && !isCi(options.env) && options.env.TERM !== "dumb" ? "bars" : "lines";
}

/** Bars are imported only when shown: a CI run does not load cli-progress. */
export async function createProgressRenderer(options: {
  mode: RenderMode;
  /** Where lines go (the logger, so they are masked and follow --quiet). */
  writeLine: (line: string) => void;
  stream?: NodeJS.WriteStream;
  intervalMs?: number;
}): Promise<ProgressRenderer> {
  if (options.mode === "none") return { sink: ignoreProgress, finish() {} };
  if (options.mode === "bars") {
    const { createBarRenderer } = await import("./bars.js");
    return createBarRenderer(options.stream ?? process.stderr);
  }
  return createLineRenderer({ write: options.writeLine, intervalMs: options.intervalMs });
}
