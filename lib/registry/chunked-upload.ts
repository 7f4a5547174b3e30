/**
 * A large blob sent in chunks into one upload session (PATCH with Content-Range), verified as it streams,
 * and resumed where the registry got to when a request breaks: the session's offset is asked (GET on its
 * Location answers 204 with `Range: 0-<last>`) and the rest is sent from there. Only a session the
 * registry has lost (404, 416, BLOB_UPLOAD_INVALID) is given up for a new one. A flaky link then re-sends
 * at most the chunk under way per drop, not the blob.
 * https://github.com/opencontainers/distribution-spec/blob/main/spec.md#pushing-a-blob-in-chunks
 *
 * The digest is still verified whole: a resumed attempt reads the blob from its first byte and hashes
 * the bytes the registry holds without sending them (verify.ts). distribution (2.8 and current) keeps no
 * usable session after a PATCH that broke off half-way *at the registry* (the bytes it kept no longer
 * match the `_state` in the Location): only a drop before the bytes reached it (a proxy or load balancer
 * that buffers bodies, a connection that failed before the chunk) can be resumed there; other registries
 * keep what they received and say so in `Range`.
 */
import type { Readable } from "node:stream";
import { RegistryHttpError } from "./errors.js";
import type { BlobRef, RepositoryClient, StagedUpload, UploadOptions, UploadPosition } from "./repository.js";
import { isRetryable } from "./retry.js";
import { openVerified, splitIntoPieces } from "./verify.js";

export interface StageOptions extends UploadOptions {
  /**
   * Asked between chunks, at most every {@link ABANDON_CHECK_MS}: true when the upload is no longer needed
   * (another push put the blob into the repository meanwhile). The session is then cancelled and nothing
   * is staged.
   */
  abandonIf?: () => Promise<boolean>;
  /**
   * After a broken request: the bytes the registry holds, from which the upload goes on; undefined when it
   * starts again in a new session (the registry lost the old one). For the log.
   */
  onResume?: (offset: number | undefined) => void;
}

/** How often `abandonIf` is asked: a HEAD per chunk would cost a round trip per chunk on a distant registry. */
const ABANDON_CHECK_MS = 2_000;

/** Lengths of the consecutive chunks of `size` bytes. */
export function chunkLengths(size: number, chunkSize: number): number[] {
  const lengths: number[] = [];
  for (let offset = 0; offset < size; offset += chunkSize) lengths.push(Math.min(chunkSize, size - offset));
  return lengths;
}

/** The error of the blob's own bytes (unreadable, not matching the digest): never worth another attempt. */
class BodyFailure {
  constructor(readonly error: unknown) {}
}

/** Whether another attempt in the same session may help: a broken connection, a 5xx, a 429, or a 416 (offset to ask). */
function worthResuming(error: unknown): boolean {
  return isRetryable(error) || (error instanceof RegistryHttpError && error.status === 416);
}

/**
 * Stages `blob` in `repository` (see RepositoryClient.stageBlob); undefined when abandoned. On a failure
 * that ends the upload, its session is cancelled.
 */
export async function stageChunked(
  repository: RepositoryClient,
  blob: BlobRef,
  open: () => Readable,
  options: StageOptions,
): Promise<StagedUpload | undefined> {
  const operation = `upload of blob ${blob.digest} to ${repository.name}`;
  const { signal } = options;
  const budget = repository.retryBudget(operation, signal);
  /** The session and the bytes the registry acknowledged in it. */
  let position: UploadPosition | undefined;
  /** A request broke: the registry may hold more (or, having lost the session, less) than `position` says. */
  let unsure = false;
  /** The end of the bytes sent into the session so far: the registry cannot hold more. */
  let sentUpTo = 0;
  /** The acknowledged offset at the last failure: an attempt that got further resets the budget. */
  let offsetAtFailure = 0;
  const state = { lastCheck: Date.now() };
  for (;;) {
    try {
      if (position && unsure) {
        const reported = await repository.uploadPosition(position.location, operation, signal);
        unsure = false;
        // More than was ever sent is not believable: the session is not this upload's any more.
        if (!reported || reported.offset > sentUpTo || reported.offset > blob.size) {
          if (reported) await repository.cancelUpload(reported.location);
          position = undefined;
        } else {
          position = reported;
        }
        options.onResume?.(position?.offset);
      }
      if (!position) {
        position = { location: await repository.startUpload(operation, signal), offset: 0 };
        sentUpTo = 0;
        offsetAtFailure = 0;
      }
      const current = position;
      const outcome = await sendFrom(repository, blob, open, current, options, operation, state, (end) => {
        sentUpTo = Math.max(sentUpTo, end);
      });
      if (outcome === "abandoned") {
        await repository.cancelUpload(current.location);
        return undefined;
      }
      return { location: current.location };
    } catch (error) {
      if (error instanceof BodyFailure || !worthResuming(error)) {
        if (position) await repository.cancelUpload(position.location);
        throw error instanceof BodyFailure ? error.error : error;
      }
      unsure = position !== undefined;
      if (position && position.offset > offsetAtFailure) budget.progressed();
      offsetAtFailure = position?.offset ?? 0;
      try {
        await budget.next(error, true);
      } catch (final) {
        if (position) await repository.cancelUpload(position.location);
        throw final;
      }
    }
  }
}

/**
 * One attempt: the blob read from its start through its verifier, the bytes before `position.offset`
 * hashed only, the rest sent chunk by chunk; `position` moves on with every chunk the registry accepts.
 */
async function sendFrom(
  repository: RepositoryClient,
  blob: BlobRef,
  open: () => Readable,
  position: UploadPosition,
  options: StageOptions,
  operation: string,
  state: { lastCheck: number },
  onSending: (end: number) => void,
): Promise<"sent" | "abandoned"> {
  const { signal } = options;
  options.onProgress?.(0);
  const verified = openVerified(open, blob, { onProgress: options.onProgress, skip: position.offset });
  const verifier = verified.body;
  try {
    const lengths = chunkLengths(blob.size - position.offset, repository.chunkSize);
    const pieces = splitIntoPieces(verifier, lengths);
    for (const [index, length] of lengths.entries()) {
      if (options.abandonIf && Date.now() - state.lastCheck >= ABANDON_CHECK_MS) {
        state.lastCheck = Date.now();
        if (await options.abandonIf()) return "abandoned";
      }
      onSending(position.offset + length);
      position.location = await repository.sendChunk(
        position,
        length,
        pieces[index] as AsyncIterable<Buffer>,
        operation,
        signal,
      );
      position.offset += length;
    }
    // The registry had every byte: the blob is still read to its end, so that it is verified.
    if (lengths.length === 0) for await (const _ of verifier);
    if (verified.error()) throw verified.error();
    return "sent";
  } catch (error) {
    // The first error of the bytes themselves is what failed, whatever the request ended with.
    const bodyError = verified.error();
    throw bodyError ? new BodyFailure(bodyError) : error;
  } finally {
    verified.close();
  }
}
