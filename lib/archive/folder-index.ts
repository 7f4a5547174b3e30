/**
 * An OCI image layout folder (image-spec image-layout.md:
 * https://github.com/opencontainers/image-spec/blob/main/image-layout.md), as skopeo `oci:DIR`, buildx
 * `--output type=oci,tar=false`, podman `save --format oci-dir` and umoci write it, indexed as the same
 * entries a tarball of it would have: `oci-layout`, `index.json`, `blobs/<alg>/<encoded>` (and
 * `manifest.json` or `repositories` where a writer adds them). Each entry's data is its own file, so the
 * same EntryReader and openArchive read it.
 *
 * A folder is not written by one tool in one go as a tar is: anything may be in it. Only regular files are
 * read; a symbolic link is followed only when it stays inside the folder and ends at a regular file (a
 * layout that links a blob to /etc/shadow, or to a FIFO that would hang the read, is refused). Every blob
 * is checked against its digest as it is read, as with a tarball, and read only while its file is the
 * one indexed: a file swapped since for a link, a FIFO or another file is refused (entry-reader.ts).
 */
import { lstat, readdir, realpath, stat } from "node:fs/promises";
import { join, sep } from "node:path";
import { archiveError, markFolder } from "./errors.js";
import type { TarEntry, TarIndex } from "./tar-index.js";

/** More files than any layout holds: past it the folder is not a layout (or is a trap), not read whole. */
const MAX_FILES = 100_000;

/** Files of the layout's top folder that an image reader uses. */
const TOP_FILES = ["oci-layout", "index.json", "manifest.json", "repositories"];

const NOT_A_LAYOUT_ADVICE =
  "give an image tarball, or a folder that skopeo copy ... oci:DIR, docker buildx build --output type=oci,tar=false,dest=DIR or umoci wrote";

function kindOf(info: Awaited<ReturnType<typeof lstat>>): string {
  if (info.isDirectory()) return "a folder";
  if (info.isFIFO()) return "a FIFO";
  if (info.isSocket()) return "a socket";
  if (info.isBlockDevice() || info.isCharacterDevice()) return "a device";
  return "not a regular file";
}

/** Indexes the OCI layout folder `dir`, named `path` in messages. */
export async function indexFolder(dir: string, path: string = dir): Promise<TarIndex> {
  markFolder(path);
  const root = await realpath(dir);
  const entries = new Map<string, TarEntry>();
  let total = 0;

  /** The entry for `name`, or undefined when absent; refused when it is no regular file inside the folder. */
  const add = async (name: string): Promise<void> => {
    const full = join(root, name);
    let info: Awaited<ReturnType<typeof lstat>>;
    try {
      info = await lstat(full);
    } catch {
      return;
    }
    let file = full;
    if (info.isSymbolicLink()) {
      let target: string;
      try {
        target = await realpath(full);
      } catch {
        throw archiveError(path, `${name} is a symbolic link to nothing`, NOT_A_LAYOUT_ADVICE);
      }
      if (!target.startsWith(root + sep)) {
        throw archiveError(
          path,
          `${name} is a symbolic link to ${target}, outside the layout folder: refusing to read files the layout does not hold`,
          "copy the layout again without links (skopeo copy oci:DIR oci:NEWDIR)",
        );
      }
      info = await stat(target);
      file = target;
    }
    if (!info.isFile()) {
      throw archiveError(
        path,
        `${name} is ${kindOf(info)}, where the layout keeps a file`,
        "copy the layout again (skopeo copy oci:DIR oci:NEWDIR)",
      );
    }
    if (entries.size >= MAX_FILES) {
      throw archiveError(
        path,
        `has more than ${MAX_FILES} blobs, more than an image layout holds`,
        NOT_A_LAYOUT_ADVICE,
      );
    }
    entries.set(name, {
      name,
      type: "file",
      offset: 0,
      size: info.size,
      file,
      identity: { dev: info.dev, ino: info.ino },
    });
    total += info.size;
  };

  for (const name of TOP_FILES) await add(name);
  if (!entries.has("oci-layout") || !entries.has("index.json")) {
    const has = ["oci-layout", "index.json"].filter((name) => entries.has(name));
    throw archiveError(
      path,
      `is a folder but not an OCI image layout (it has ${has.length ? `${has.join(" and ")} but not ${["oci-layout", "index.json"].find((n) => !entries.has(n))}` : "neither oci-layout nor index.json"})`,
      NOT_A_LAYOUT_ADVICE,
    );
  }
  const blobs = join(root, "blobs");
  const algorithms = await readdir(blobs, { withFileTypes: true }).catch(() => []);
  for (const algorithm of algorithms) {
    // Only the folders of algorithms an image can use; anything else in blobs/ is not read.
    if (!["sha256", "sha512"].includes(algorithm.name)) continue;
    if (!algorithm.isDirectory()) {
      throw archiveError(
        path,
        `blobs/${algorithm.name} is not a folder`,
        "copy the layout again (skopeo copy oci:DIR oci:NEWDIR)",
      );
    }
    const names = await readdir(join(blobs, algorithm.name));
    for (const name of names) await add(`blobs/${algorithm.name}/${name}`);
  }

  return {
    path,
    dataPath: root,
    fileSize: total,
    entries,
    file(name) {
      const entry = entries.get(name);
      return entry?.type === "file" ? entry : undefined;
    },
  };
}
