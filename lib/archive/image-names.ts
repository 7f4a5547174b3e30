/**
 * The names an archive records for an image, gathered from its several places (index.json annotations,
 * manifest.json RepoTags) without listing one name twice in two spellings (`x/app:1` in RepoTags is
 * `docker.io/x/app:1` in containerd's annotation).
 */
import { printableValue } from "../printable.js";
import { CONTAINERD_IMAGE_NAME, OCI_REF_NAME } from "../reference/media-types.js";
import { canonicalImageName } from "../reference/name.js";

/** Collects names in the order found; a name already present in another spelling is not added again. */
export class NameSet {
  readonly #names: string[] = [];
  readonly #keys = new Set<string>();

  add(given: string | undefined): void {
    if (!given) return;
    // A name is shown and compared on one line: one that holds control characters (no image name does)
    // is kept escaped, so that printing it cannot forge or rewrite lines of the log.
    const name = printableValue(given);
    const key = canonicalImageName(name);
    if (this.#keys.has(key)) return;
    this.#keys.add(key);
    this.#names.push(name);
  }

  /**
   * An index.json entry's names. `org.opencontainers.image.ref.name` is often only the tag (`1`, as
   * buildx writes it beside `io.containerd.image.name=docker.io/x/app:1`): it adds nothing then. When it
   * is a full reference, or the only name, it is kept as written.
   */
  addAnnotations(annotations: Record<string, string> | undefined): void {
    const full = annotations?.[CONTAINERD_IMAGE_NAME];
    const ref = annotations?.[OCI_REF_NAME];
    this.add(full);
    if (ref && !(full && (full.endsWith(`:${ref}`) || full.endsWith(`@${ref}`)))) this.add(ref);
  }

  get names(): string[] {
    return [...this.#names];
  }
}
