/**
 * buildx's own progress display: `plain` (one line per event, readable in a CI log) unless a person
 * watches a terminal, where `auto` picks buildx's live tty view. `CI=true` means a log, even on a pty.
 */
export type ProgressMode = "plain" | "auto";

export function progressMode(env: NodeJS.ProcessEnv, stderrIsTty: boolean): ProgressMode {
  const ci = (env.CI ?? "").toLowerCase();
  if (ci === "true" || ci === "1") return "plain";
  return stderrIsTty ? "auto" : "plain";
}
