import { UsageError } from "../errors.js";

/** What a user can do about a tarball that cannot be read as an image: write it again. */
export const REWRITE_ADVICE =
  "write it again (docker buildx build --output type=docker|oci,dest=FILE, or docker save -o FILE) and check that the copy is complete";

/**
 * A tarball that cannot be used as an image: bad input, so exit code 2, naming the file and what is wrong.
 * Raised while indexing and reading, before anything is pushed.
 */
export function archiveError(path: string, problem: string, advice: string = REWRITE_ADVICE): UsageError {
  return new UsageError(`image tarball ${path}: ${problem}; ${advice}`, [path]);
}
