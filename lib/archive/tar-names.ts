/**
 * The names a tar file has given so far, and the rule that each name means one thing. Image tools look
 * entries up by name, and they do not agree on which entry of a name counts: go-containerregistry
 * (Trivy) and containers/image (skopeo) take the first, extraction (docker load of older archives, GNU
 * tar) and containerd's importer the last. A name given twice, whatever lies between (a folder of the
 * same name included), or a file that something else is inside, is two different files to two readers.
 */
import type { TarEntryType } from "./tar-index.js";
import { ambiguous } from "./tar-problem.js";

const LABELS: Record<TarEntryType, string> = {
  file: "file",
  directory: "folder",
  symlink: "symbolic link",
  hardlink: "hard link",
  other: "device or FIFO",
};

export class EntryNames {
  readonly #types = new Map<string, TarEntryType>();
  /** Names that some entry is inside of (`a` and `a/b` for `a/b/c`). */
  readonly #parents = new Set<string>();

  /** Records entry `name` (normalised) of `type`; refuses a second meaning for a name. */
  claim(name: string, type: TarEntryType): void {
    if (name === "") {
      if (type === "directory") return;
      throw ambiguous(`a ${LABELS[type]} entry names the archive's root folder ("." or "./")`);
    }
    const previous = this.#types.get(name);
    if (previous !== undefined && !(previous === "directory" && type === "directory")) {
      throw ambiguous(
        `entry "${name}" appears twice (a ${LABELS[previous]}, then a ${LABELS[type]}): tools that take the first entry of a name (go-containerregistry, skopeo) and tools that take the last (docker load, containerd, GNU tar) read different files`,
      );
    }
    // Deepest folder first; one already known as a parent had its own parents checked then, and none of
    // them can have become a file since (that claim would have been refused).
    for (let slash = name.lastIndexOf("/"); slash > 0; slash = name.lastIndexOf("/", slash - 1)) {
      const parent = name.slice(0, slash);
      if (this.#parents.has(parent)) break;
      const parentType = this.#types.get(parent);
      if (parentType !== undefined && parentType !== "directory") {
        throw ambiguous(
          `entry "${name}" is inside "${parent}", which is a ${LABELS[parentType]}: extracting readers replace one with the other, readers that look names up keep both`,
        );
      }
      this.#parents.add(parent);
    }
    if (type !== "directory" && this.#parents.has(name)) {
      throw ambiguous(
        `entry "${name}" is a ${LABELS[type]}, but earlier entries are inside a folder of that name: extracting readers replace one with the other, readers that look names up keep both`,
      );
    }
    this.#types.set(name, type);
  }
}
