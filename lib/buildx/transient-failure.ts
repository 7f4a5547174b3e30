/**
 * Failures of `docker buildx build` that another run of the same command gets past, as builds and
 * pushes at once on one engine and one registry meet them (issue 16). Pure.
 *
 * - `naming`: BuildKit's image exporter names the image with an update and, when the name does not exist
 *   yet, a create (exporter/containerimage/export.go, "naming to ..."). Two builds that both find the name
 *   missing both create it, and the second create fails: `image "<name>": already exists`. Naming comes
 *   before the push, so nothing was pushed.
 * - `registry`: the registry answered a request of the push with a 5xx or 429, which the engine's pusher
 *   (containerd's) does not retry: `unexpected status from HEAD request to <url>: 500 Internal Server
 *   Error`. distribution 2.8 answers 500 for a tag or blob whose link another push is rewriting.
 *   A push is idempotent: pushed blobs are found in place the next time.
 * Either way the build is cached, so running it again costs the export and the push only.
 */
import { lastErrorLine } from "./last-error.js";

export type TransientFailure = "naming" | "registry";

const ALREADY_EXISTS = /\bimage "[^"]+": already exists\b/;
const REGISTRY_STATUS = /\bunexpected status(?: from [A-Z]+ request to \S+)?: (?:5\d\d|429)\b/;

/** Why buildx failed, when another run of the same command may succeed; undefined otherwise. */
export function transientFailure(lines: readonly string[]): TransientFailure | undefined {
  const error = lastErrorLine(lines) ?? "";
  if (ALREADY_EXISTS.test(error)) return "naming";
  if (REGISTRY_STATUS.test(error)) return "registry";
  return undefined;
}
