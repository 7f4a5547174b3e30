/**
 * `docker save NAME...` through the engine API: every name in one tarball (shared layers once, every tag
 * recorded in manifest.json), streamed to a temporary file beside `dest` and renamed into place only when
 * the whole tarball arrived, so `dest` is either the complete image or untouched.
 *
 * The engine answers 200 before it writes the tarball; if the export fails half-way it appends a JSON
 * error to the tar stream (moby api/server/router/image: getImagesGet, `output.Flushed()`), and a broken
 * connection ends the chunked response early. The first is caught by the end of the file (a whole tar
 * ends with two zero blocks, the end-of-archive marker), the second by the HTTP framing (Node fails a
 * chunked response that ends without its last chunk): no need to parse the tarball while it is written.
 * https://docs.docker.com/reference/api/engine/version/v1.45/#tag/Image/operation/ImageGetAll
 */
import { randomBytes } from "node:crypto";
import { createWriteStream } from "node:fs";
import { mkdir, open, rename, rm } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type Dockerode from "dockerode";
import type { Engine } from "../engine/engine.js";
import { asEngineFailure } from "../engine/failure.js";
import { ProtocolError } from "../protocol-error.js";

const BLOCK = 512;

/**
 * Pure: whether the last bytes of a file of `size` bytes can end a tar archive: a whole number of
 * blocks, the last two all zero (POSIX ustar end-of-archive). An appended JSON error or a cut-off
 * stream fails it.
 */
export function endsLikeTar(size: number, tail: Buffer): boolean {
  if (size < 2 * BLOCK || size % BLOCK !== 0 || tail.length < 2 * BLOCK) return false;
  return tail.subarray(tail.length - 2 * BLOCK).every((byte) => byte === 0);
}

async function readTail(path: string): Promise<{ size: number; tail: Buffer }> {
  const file = await open(path, "r");
  try {
    const { size } = await file.stat();
    const length = Math.min(size, 2 * BLOCK);
    const tail = Buffer.alloc(length);
    await file.read(tail, 0, length, size - length);
    return { size, tail };
  } finally {
    await file.close();
  }
}

/**
 * Saves the images `names` (names or IDs) from the engine into one tarball at `dest`, streaming.
 * Fails with the engine's message (a missing name, a full disk) and leaves no partial file.
 */
export async function saveImages(engine: Engine, names: string[], dest: string): Promise<void> {
  if (names.length === 0) throw new ProtocolError("bad-request", "saving images: no image name given");
  await mkdir(dirname(dest), { recursive: true });
  const temp = join(dirname(dest), `.${basename(dest)}.${randomBytes(6).toString("hex")}.partial`);
  const what = `saving ${names.join(", ")} to ${dest}`;
  try {
    let response: Readable;
    try {
      // `GET /images/get?names=…` (dockerode's getImages, which its typings leave out).
      const client = (await engine.client()) as Dockerode & {
        getImages(options: { names: string[] }): Promise<NodeJS.ReadableStream>;
      };
      response = (await client.getImages({ names })) as unknown as Readable;
    } catch (error) {
      throw asEngineFailure(engine, what, error);
    }
    try {
      await pipeline(response, createWriteStream(temp));
    } catch (error) {
      throw new ProtocolError(
        "engine-refused",
        `${what}: the engine at ${engine.address.display} stopped sending the tarball (${(error as Error).message}); see the engine's log for the cause`,
        { cause: error },
      );
    }
    const { size, tail } = await readTail(temp);
    if (!endsLikeTar(size, tail)) {
      const text = tail.toString("utf8");
      const reported = /\{"errorDetail":\{"message":"((?:[^"\\]|\\.)*)"/.exec(text)?.[1];
      throw new ProtocolError(
        "bad-response",
        `${what}: the engine at ${engine.address.display} did not send a whole tarball${reported ? `: ${JSON.parse(`"${reported}"`)}` : ""}`,
      );
    }
    await rename(temp, dest);
  } finally {
    await rm(temp, { force: true });
  }
}
