/**
 * Progress of a push or a load, as events: the registry client and the daemon path emit them, one
 * renderer (a bar on a TTY, plain lines in CI logs, nothing with --quiet) shows them.
 */
export type ProgressEvent =
  /** A push begins: how many blobs and bytes it may move (the total bar's size), and where to. */
  | { type: "push-start"; target: string; blobs: number; total: number }
  /** A blob the push will move; `total` in bytes. */
  | { type: "blob-start"; id: string; total: number }
  | { type: "blob-progress"; id: string; current: number; total: number }
  /** `how`: uploaded, or skipped because the registry had it, or mounted from another repository. */
  | { type: "blob-done"; id: string; total: number; how: "uploaded" | "exists" | "mounted" }
  | { type: "manifest"; reference: string; digest: string }
  | { type: "message"; text: string };

export type ProgressSink = (event: ProgressEvent) => void;

/** A sink that drops everything (tests, --quiet). */
export const ignoreProgress: ProgressSink = () => {};
