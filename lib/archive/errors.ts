import { ProtocolError, type ProtocolErrorKind } from "../protocol-error.js";

/** What a user can do about a tarball that cannot be read as an image: write it again. */
const REWRITE_ADVICE =
  "write it again (docker buildx build --output type=docker|oci,dest=FILE, or docker save -o FILE) and check that the copy is complete";

/** What a user can do about a file that is not an image archive at all: give the image, written by a tool that writes one. */
export const NOT_AN_IMAGE_ADVICE =
  "give an image archive: docker save -o FILE IMAGE, docker buildx build --output type=docker,dest=FILE (or type=oci), or skopeo copy docker://IMAGE oci-archive:FILE; gzip, zstd, xz and bzip2 copies of those are read too";

/** What a user can do about a stream on standard input that ended early or is damaged. */
const STDIN_ADVICE =
  "check that the command before the pipe (docker save) finished without an error, and pipe the image again";

/** The paths that name OCI layout folders, so that messages call them folders (see archiveError). */
const FOLDERS = new Set<string>();

/** Records that `path` names an OCI layout folder. */
export function markFolder(path: string): void {
  FOLDERS.add(path);
}

/**
 * What a user can do about an ambiguous tarball. It is not damaged (a copy that went wrong does not make
 * one): it was written so that two readers see two images, so it is rebuilt by a known writer, then
 * scanned and pushed as that one file.
 */
const AMBIGUOUS_ADVICE =
  "the file is not damaged, it was written this way; rebuild it with docker save, docker buildx build --output type=docker|oci,dest=FILE, or skopeo copy, then scan and push that new file";

/**
 * A tarball that cannot be used as an image: bad input (every archive kind is), naming the file and what
 * is wrong. Raised while indexing and reading, before anything is pushed.
 */
export function archiveError(
  path: string,
  problem: string,
  advice?: string,
  kind: ProtocolErrorKind = "corrupt-archive",
): ProtocolError {
  const given = advice ?? (path === "standard input" ? STDIN_ADVICE : REWRITE_ADVICE);
  const what = FOLDERS.has(path)
    ? "OCI layout folder"
    : path === "standard input"
      ? "image tarball on"
      : "image tarball";
  return new ProtocolError(kind, `${what} ${path}: ${problem}; ${given}`);
}

/**
 * A tarball in which different readers would see different files (a scanner one image, the push
 * another): refused whatever this reader would have made of it. `level` says where the
 * readers part: in the tar itself, or in the image documents (index.json, manifest.json, manifests).
 */
export function ambiguousArchive(
  path: string,
  problem: string,
  level: "tar" | "image" = "tar",
): ProtocolError {
  const readers =
    level === "tar"
      ? "different tar readers would see different files in it"
      : "different image readers would see different images in it";
  return archiveError(
    path,
    `is AMBIGUOUS (${readers}, so what a scanner checked need not be what is pushed): ${problem}`,
    AMBIGUOUS_ADVICE,
    "ambiguous-archive",
  );
}
