/**
 * Verification of a blob while it streams to the registry: the bytes are hashed as they pass, and the
 * last piece is held back until the digest and size are checked, so a corrupted blob never completes
 * an upload (its final request fails before its body ends). An upload that goes on where the registry got
 * to reads the blob from its start all the same: the bytes the registry holds are hashed, not passed on,
 * so the digest checked is always that of the whole blob.
 */
import { createHash, type Hash } from "node:crypto";
import { type Readable, Transform, type TransformCallback, Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { BlobVerificationError } from "./errors.js";

const ALGORITHMS: Record<string, string> = { sha256: "sha256", sha512: "sha512" };

/** A hash for the digest's algorithm; a digest with another algorithm is refused. */
function hashFor(digest: string): Hash {
  const algorithm = ALGORITHMS[digest.split(":")[0] ?? ""];
  if (!algorithm) throw new BlobVerificationError(digest, "unsupported digest algorithm");
  return createHash(algorithm);
}

export class DigestVerifier extends Transform {
  readonly #digest: string;
  readonly #size: number;
  readonly #hash: Hash;
  readonly #onProgress: ((bytes: number) => void) | undefined;
  readonly #skip: number;
  #held: Buffer | undefined;
  #bytes = 0;

  /**
   * `skip`: this many bytes from the start are hashed but not passed on (the registry has them).
   * `onProgress`: the bytes seen so far, skipped ones included.
   */
  constructor(
    expected: { digest: string; size: number },
    options: { onProgress?: (bytes: number) => void; skip?: number } = {},
  ) {
    super();
    this.#digest = expected.digest;
    this.#size = expected.size;
    this.#hash = hashFor(expected.digest);
    this.#onProgress = options.onProgress;
    this.#skip = options.skip ?? 0;
  }

  /** Bytes seen so far. */
  get bytes(): number {
    return this.#bytes;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    const start = this.#bytes;
    this.#bytes += chunk.length;
    if (this.#bytes > this.#size) {
      callback(new BlobVerificationError(this.#digest, `more than its ${this.#size} bytes were read`));
      return;
    }
    this.#hash.update(chunk);
    const passed = start >= this.#skip ? chunk : chunk.subarray(Math.min(chunk.length, this.#skip - start));
    if (passed.length > 0) {
      if (this.#held) this.push(this.#held);
      this.#held = passed;
    }
    this.#onProgress?.(this.#bytes);
    callback();
  }

  override _flush(callback: TransformCallback): void {
    if (this.#bytes !== this.#size) {
      callback(
        new BlobVerificationError(
          this.#digest,
          `only ${this.#bytes} of its ${this.#size} bytes could be read`,
        ),
      );
      return;
    }
    const actual = `${this.#digest.split(":")[0]}:${this.#hash.digest("hex")}`;
    if (actual !== this.#digest) {
      callback(new BlobVerificationError(this.#digest, `its bytes hash to ${actual}`));
      return;
    }
    if (this.#held) this.push(this.#held);
    callback();
  }
}

/** A blob's bytes flowing through their verifier, and the first error of those bytes. */
interface VerifiedBlob {
  /** The bytes to send: the source's, checked against the digest and size as they pass. */
  body: DigestVerifier;
  /** The first error of the bytes themselves (unreadable source, a mismatch), once there is one. */
  error(): unknown;
  /** Stops reading the source and the verifier (call however the send ends). */
  close(): void;
}

/**
 * Opens a blob's source and pipes it through a {@link DigestVerifier}. What failed first is kept: an
 * upload that breaks because its body failed must report the body's error, not the request's.
 */
export function openVerified(
  open: () => Readable,
  expected: { digest: string; size: number },
  options: { onProgress?: (bytes: number) => void; skip?: number } = {},
): VerifiedBlob {
  const source = open();
  const body = new DigestVerifier(expected, options);
  let failure: unknown;
  body.on("error", (error) => {
    failure ??= error;
  });
  source.on("error", (error) => {
    failure ??= error;
    body.destroy(error);
  });
  source.pipe(body);
  return {
    body,
    error: () => failure,
    close() {
      source.destroy();
      body.destroy();
    },
  };
}

/**
 * Splits a stream of buffers into consecutive pieces of exactly the given lengths, each an async
 * iterable to use as one request's body (chunked upload). Pieces must be consumed in order.
 */
export function splitIntoPieces(source: AsyncIterable<Buffer>, lengths: number[]): AsyncIterable<Buffer>[] {
  const iterator = source[Symbol.asyncIterator]();
  let leftover: Buffer | undefined;
  let sourceDone = false;
  return lengths.map((length) =>
    (async function* piece(): AsyncGenerator<Buffer> {
      let remaining = length;
      while (remaining > 0) {
        let chunk = leftover;
        leftover = undefined;
        if (!chunk) {
          if (sourceDone) return;
          const next = await iterator.next();
          if (next.done) {
            sourceDone = true;
            return;
          }
          chunk = next.value;
        }
        if (chunk.length > remaining) {
          leftover = chunk.subarray(remaining);
          chunk = chunk.subarray(0, remaining);
        }
        remaining -= chunk.length;
        yield chunk;
      }
    })(),
  );
}

/** Reads a blob through to its end and checks it against its digest and size, sending it nowhere. */
export async function verifyBlob(
  expected: { digest: string; size: number },
  source: Readable,
): Promise<void> {
  const discard = new Writable({
    write(_chunk, _encoding, callback) {
      callback();
    },
  });
  await pipeline(source, new DigestVerifier(expected), discard);
}
