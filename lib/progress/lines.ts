/**
 * Progress as plain lines, for CI logs: one line when a blob starts to upload and when it is done, a
 * total line at most every `intervalMs`, and the tags grouped (tag-lines.ts); no carriage returns or
 * escape codes, which logs show as garbage.
 */
import type { ProgressEvent, ProgressSink } from "./events.js";
import { formatBytes, formatRate } from "./format.js";
import { TagLines } from "./tag-lines.js";
import { PushTotals } from "./totals.js";

interface LineRendererOptions {
  write: (line: string) => void;
  /** Least time between two total lines. */
  intervalMs?: number;
  now?: () => number;
}

const DEFAULT_LINE_INTERVAL_MS = 5_000;

const HOW: Record<"uploaded" | "exists" | "mounted", string> = {
  uploaded: "pushed",
  exists: "already in the registry",
  mounted: "mounted from another repository",
};

export function createLineRenderer(options: LineRendererOptions): { sink: ProgressSink; finish(): void } {
  const now = options.now ?? Date.now;
  const interval = options.intervalMs ?? DEFAULT_LINE_INTERVAL_MS;
  const totals = new PushTotals();
  const uploading = new Set<string>();
  let started = now();
  let lastTotalLine = started;
  const tagLines = new TagLines(options.write, interval, now);

  const totalLine = () =>
    `${formatBytes(totals.current)} of ${formatBytes(totals.total)} (${totals.total ? Math.floor((totals.current * 100) / totals.total) : 100}%), ${totals.blobsDone} of ${totals.blobs} blobs done, ${formatRate(totals.sent, now() - started)}`;

  const sink = (event: ProgressEvent) => {
    totals.apply(event);
    if (event.type === "manifest") {
      tagLines.add(event.reference, event.digest);
      return;
    }
    tagLines.flush();
    switch (event.type) {
      case "push-start":
        started = now();
        lastTotalLine = started;
        options.write(`pushing to ${event.target}: ${event.blobs} blobs, ${formatBytes(event.total)}`);
        return;
      case "blob-progress":
        // The first bytes of a blob say it is being uploaded (not found in the registry).
        if (event.current > 0 && !uploading.has(event.id)) {
          uploading.add(event.id);
          options.write(`${event.id}: uploading ${formatBytes(event.total)}`);
        }
        break;
      case "blob-done":
        uploading.delete(event.id);
        options.write(`${event.id}: ${HOW[event.how]} (${formatBytes(event.total)})`);
        break;
      case "message":
        options.write(event.text);
        return;
      default:
        break;
    }
    if (now() - lastTotalLine >= interval && totals.blobsDone < totals.blobs) {
      lastTotalLine = now();
      options.write(`total: ${totalLine()}`);
    }
  };
  return {
    sink,
    finish() {
      tagLines.flush();
      if (totals.blobs > 0)
        options.write(`total: ${totalLine()} in ${((now() - started) / 1000).toFixed(1)} s`);
    },
  };
}
