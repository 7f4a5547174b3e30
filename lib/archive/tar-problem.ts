/**
 * Why a tar file cannot be indexed, raised by the parts of the tar reader that do not know the file's
 * path; indexTar turns it into the UsageError that names the file.
 * - `corrupt`: not a well-formed tar file (cut short, bad checksum, malformed records).
 * - `not-a-tar`: not a tar file at all (the first header is not one): another kind of file was given.
 * - `ambiguous`: well-formed enough for some readers, but two readers in use (Go's archive/tar behind
 *   docker, containerd, skopeo and Trivy; GNU tar; the first-match and last-match lookups of image tools)
 *   would see different files in it.
 */
export class TarProblem extends Error {
  constructor(
    readonly kind: "corrupt" | "ambiguous" | "not-a-tar",
    message: string,
  ) {
    super(message);
    this.name = "TarProblem";
  }
}

export function corrupt(message: string): TarProblem {
  return new TarProblem("corrupt", message);
}

export function ambiguous(message: string): TarProblem {
  return new TarProblem("ambiguous", message);
}
