import type { ProgressEvent } from "./events.js";

/**
 * The running totals of a push, from its events: bytes moved over all blobs (a blob that the registry
 * had, or that was mounted, counts as moved: the bar measures what is left to do), blobs done.
 */
export class PushTotals {
  target = "";
  blobs = 0;
  total = 0;
  blobsDone = 0;
  readonly #current = new Map<string, number>();
  #doneBytes = 0;
  #uploadedDone = 0;

  apply(event: ProgressEvent): void {
    switch (event.type) {
      case "push-start":
        this.target = event.target;
        this.blobs = event.blobs;
        this.total = event.total;
        break;
      case "blob-start":
        this.#current.set(event.id, 0);
        break;
      case "blob-progress":
        this.#current.set(event.id, event.current);
        break;
      case "blob-done":
        this.#current.delete(event.id);
        this.#doneBytes += event.total;
        if (event.how === "uploaded") this.#uploadedDone += event.total;
        this.blobsDone++;
        break;
      default:
        break;
    }
  }

  /** Bytes actually sent: uploaded blobs, and what the unfinished ones have sent (for the rate). */
  get sent(): number {
    let sum = this.#uploadedDone;
    for (const bytes of this.#current.values()) sum += bytes;
    return sum;
  }

  /** Bytes done: finished blobs in full, and what the unfinished ones have sent. */
  get current(): number {
    let sum = this.#doneBytes;
    for (const bytes of this.#current.values()) sum += bytes;
    return sum;
  }
}
