/**
 * Progress as bars, for a terminal: one bar per blob being moved and one for the total (cli-progress).
 * A finished blob's bar makes way for a line saying how it got there.
 */
import cliProgress from "cli-progress";
import type { ProgressEvent, ProgressSink } from "./events.js";
import { formatBytes } from "./format.js";
import { TagLines } from "./tag-lines.js";
import { PushTotals } from "./totals.js";

type Bar = ReturnType<cliProgress.MultiBar["create"]>;

export function createBarRenderer(stream: NodeJS.WriteStream): { sink: ProgressSink; finish(): void } {
  const multibar = new cliProgress.MultiBar(
    {
      stream,
      format: "{label} {bar} {percentage}% {done}/{size}",
      barsize: 30,
      hideCursor: true,
      clearOnComplete: false,
      autopadding: true,
      fps: 10,
    },
    cliProgress.Presets.shades_classic,
  );
  const totals = new PushTotals();
  const bars = new Map<string, Bar>();
  let totalBar: Bar | undefined;
  const tagLines = new TagLines((line) => multibar.log(`${line}\n`), 1_000);

  const sink = (event: ProgressEvent) => {
    totals.apply(event);
    if (event.type !== "manifest") tagLines.flush();
    switch (event.type) {
      case "push-start":
        totalBar = multibar.create(Math.max(event.total, 1), 0, {
          label: "total       ",
          done: formatBytes(0),
          size: formatBytes(event.total),
        });
        break;
      case "blob-start":
        bars.set(
          event.id,
          multibar.create(Math.max(event.total, 1), 0, {
            label: event.id,
            done: formatBytes(0),
            size: formatBytes(event.total),
          }),
        );
        break;
      case "blob-progress":
        bars.get(event.id)?.update(event.current, { done: formatBytes(event.current) });
        break;
      case "blob-done": {
        const bar = bars.get(event.id);
        if (bar) multibar.remove(bar);
        bars.delete(event.id);
        const how =
          event.how === "uploaded"
            ? "pushed"
            : event.how === "exists"
              ? "already in the registry"
              : "mounted";
        multibar.log(`${event.id}: ${how} (${formatBytes(event.total)})\n`);
        break;
      }
      case "manifest":
        tagLines.add(event.reference, event.digest);
        break;
      case "message":
        multibar.log(`${event.text}\n`);
        break;
    }
    totalBar?.update(totals.current, { done: formatBytes(totals.current) });
  };
  return {
    sink,
    finish() {
      tagLines.flush();
      // Lines logged since the last redraw are only written by a redraw (stop() drops them).
      (multibar as unknown as { update(): void }).update();
      multibar.stop();
    },
  };
}
