/**
 * The lines for the tags a push writes. Every tag of a push serves one digest, so the first tag of a
 * repository is shown with it and the tags after it that serve the same digest are named together on
 * one line, written when something else is shown, when the push ends, or at most every `intervalMs`:
 * a push of fifty tags shows two lines, not fifty that repeat one digest.
 */
import { splitTag } from "../reference/name.js";

export class TagLines {
  readonly #write: (line: string) => void;
  readonly #intervalMs: number;
  readonly #now: () => number;
  #group: { repository: string; digest: string; tags: string[] } | undefined;
  #since = 0;

  constructor(write: (line: string) => void, intervalMs: number, now: () => number = Date.now) {
    this.#write = write;
    this.#intervalMs = intervalMs;
    this.#now = now;
  }

  add(reference: string, digest: string): void {
    const { name: repository, tag = "" } = splitTag(reference);
    const group = this.#group;
    if (group && group.repository === repository && group.digest === digest && tag !== "") {
      if (group.tags.length === 0) this.#since = this.#now();
      group.tags.push(tag);
      if (this.#now() - this.#since >= this.#intervalMs) this.flush();
      return;
    }
    this.flush();
    this.#write(`${reference}: digest ${digest}`);
    this.#group = { repository, digest, tags: [] };
  }

  /** Writes the tags named since the last line. */
  flush(): void {
    const group = this.#group;
    if (!group || group.tags.length === 0) return;
    const count = group.tags.length;
    this.#write(
      `${group.repository}: also ${group.tags.join(", ")} (${count} tag${count === 1 ? "" : "s"}, the same digest)`,
    );
    group.tags = [];
  }
}
