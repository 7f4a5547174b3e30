/**
 * buildx's own progress display: `plain` (one line per event, readable in a CI log) unless a person
 * watches a terminal, where `auto` picks buildx's live tty view. `CI` means a log, even on a pty.
 */
import { isCi } from "../progress/ci.js";

export type ProgressMode = "plain" | "auto";

export function progressMode(env: NodeJS.ProcessEnv, stderrIsTty: boolean): ProgressMode {
  return stderrIsTty && !isCi(env) ? "auto" : "plain";
}
