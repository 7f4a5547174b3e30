/**
 * A compressed tarball, or one read from a pipe, written once as a plain tar to a temporary file, which
 * the tar index then reads by byte range like any other tarball. So every check of the random-access
 * reader (tar-index.ts and after) applies unchanged to compressed and piped input, and nothing reaches a
 * registry before the whole input has been read: a stream cut short fails here, before any push.
 * skopeo does the same for compressed and piped docker-archives (containers/image
 * docker/internal/tarfile/reader.go, NewReaderFromStream). Why not upload while decompressing: see
 * /work/research/inputs-notes.md (measured, and the refusals must come before the first upload).
 *
 * The decompressed size is bounded twice: by the space free where the file goes (checked before and while
 * writing, so a full disk is a clear message and not ENOSPC half-way) and by {@link MAX_TAR_BYTES}
 * (a decompression bomb is refused at that size, not when the disk is full).
 */

import { createWriteStream } from "node:fs";
import { statfs } from "node:fs/promises";
import { tmpdir } from "node:os";
import type { Readable } from "node:stream";
import { Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { formatBytes } from "../progress/format.js";
import { ProtocolError } from "../protocol-error.js";
import { COMPRESSION_LABELS, type Compression, decompressor } from "./compression.js";
import { archiveError } from "./errors.js";
import { createTemporaryFile, type TemporaryFile } from "./temporary-file.js";

/** No image tarball is this large; a file that decompresses to more is refused as a bomb. */
const MAX_TAR_BYTES = 64 * 1024 ** 3;

/** Left free on the temporary folder's file system, for everything else on the machine. */
const FREE_SPACE_RESERVE = 256 * 1024 ** 2;

export interface SpoolOptions {
  /** Where the temporary file goes. Default: $TMPDIR (os.tmpdir()). */
  tempDir?: string;
  /** The most the plain tar may have. Default {@link MAX_TAR_BYTES}. */
  maxBytes?: number;
  /**
   * Stops the copy (SIGINT/SIGTERM, the push deadline): the input is no longer read nor decompressed,
   * the temporary file goes, and the signal's reason is thrown.
   */
  signal?: AbortSignal;
}

/** What a failure of the decoder says about the file, in words a user can act on. */
function decodeProblem(compression: Compression, error: unknown): string {
  const detail = error instanceof Error ? error.message : String(error);
  // zlib and fzstd say "unexpected end of file"/"EOF"; the xz and bzip2 decoders' words mean nothing to
  // a user (an error number, a JavaScript TypeError), so only the gist is given.
  const what = /end of file|EOF/i.test(detail) ? "its data ends early" : "its data is damaged or ends early";
  return `is ${COMPRESSION_LABELS[compression]} but cannot be decompressed (${what}): the file was cut short or damaged`;
}

/** The command that writes such a file again, for messages. */
function rewriteCommand(compression: Compression | undefined): string {
  const compress = { gzip: "gzip", zstd: "zstd", xz: "xz", bzip2: "bzip2" };
  return compression
    ? `docker save IMAGE | ${compress[compression]} > FILE`
    : "docker save -o FILE IMAGE, or docker buildx build --output type=docker,dest=FILE";
}

/** Free bytes for an unprivileged writer on the file system of `folder`. */
async function freeBytes(folder: string): Promise<number> {
  const stats = await statfs(folder);
  return stats.bavail * stats.bsize;
}

/**
 * Writes `source` (compressed with `compression`, or plain) as a plain tar to a new temporary file.
 * `name` is how the input is named in messages. A decoder failure, a limit, or a read that fails is a
 * refusal of the input naming it; the temporary file is then already removed.
 */
export async function spoolTar(
  source: Readable,
  compression: Compression | undefined,
  name: string,
  options: SpoolOptions = {},
): Promise<TemporaryFile> {
  const folder = options.tempDir ?? tmpdir();
  const cap = options.maxBytes ?? MAX_TAR_BYTES;
  const free = (await freeBytes(folder)) - FREE_SPACE_RESERVE;
  const roomAdvice = `set TMPDIR to a folder with more room (the tarball is written there once, decompressed, and removed after the run)`;
  if (free <= 0) {
    source.destroy();
    throw archiveError(
      name,
      `needs a temporary copy in ${folder}, which has less than ${formatBytes(FREE_SPACE_RESERVE)} free`,
      roomAdvice,
    );
  }
  const limit = Math.min(cap, free);
  const file = await createTemporaryFile(folder, "image.tar");
  let written = 0;
  let overLimit = false;
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      written += chunk.length;
      if (written > limit) {
        overLimit = true;
        callback(new Error("limit"));
        return;
      }
      callback(null, chunk);
    },
  });
  try {
    const stages = compression ? [await decompressor(compression)] : [];
    const copied = pipeline(
      [source, ...stages, counter, createWriteStream(file.path, { flags: "r+", highWaterMark: 1024 * 1024 })],
      ...(options.signal ? [{ signal: options.signal }] : []),
    );
    // The pipeline destroys every stream at once on a stop, but settles only when its source has: a
    // source waiting for a pipe that sends nothing would keep the stop waiting.
    await (options.signal ? Promise.race([copied, abortion(options.signal)]) : copied);
  } catch (error) {
    await file.remove();
    if (options.signal?.aborted) throw options.signal.reason;
    if (overLimit) {
      throw limit === cap
        ? archiveError(
            name,
            `decompresses to more than ${formatBytes(cap)} (${cap} bytes), more than any image tarball has: it is not an image, or it was made to fill the disk (a decompression bomb)`,
            "refusing to read further; check what the file is (tar -tvf, or its producer's log)",
          )
        : archiveError(
            name,
            `needs more than the ${formatBytes(free)} free in ${folder} for its temporary copy`,
            roomAdvice,
          );
    }
    if (error instanceof ProtocolError) throw error;
    if (compression && !isReadError(error)) {
      throw archiveError(
        name,
        decodeProblem(compression, error),
        `copy it again, or write it again with ${rewriteCommand(compression)}`,
      );
    }
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOSPC")
      throw archiveError(name, `could not be copied to ${folder}: the disk is full`, roomAdvice);
    throw archiveError(
      name,
      `could not be read (${error instanceof Error ? error.message : String(error)})`,
      "check the file, or the command that writes the pipe",
    );
  }
  return file;
}

/** A promise that rejects with the signal's reason when it aborts. */
function abortion(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => {
    if (signal.aborted) reject(signal.reason);
    else signal.addEventListener("abort", () => reject(signal.reason), { once: true });
  });
}

/** Whether a pipeline error came from the file system (reading the input, writing the copy), not the decoder. */
function isReadError(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === "string" && /^E[A-Z]+$/.test(code) && !code.startsWith("Z_");
}
