/**
 * What the user named as the image to read, turned into something the readers can index:
 * - a plain tar file: read in place, by byte range;
 * - a gzip, zstd, xz or bzip2 file (told by its first bytes, not its name): decompressed once to a
 *   temporary plain tar (spooled-tar.ts);
 * - `-`: standard input, plain or compressed, likewise written once to a temporary tar;
 * - a folder with `oci-layout` and `index.json`: an OCI image layout (skopeo `oci:DIR`, buildx
 *   `type=oci,tar=false`, podman `oci-dir`, umoci), read file by file (folder-index.ts).
 */
import { createReadStream } from "node:fs";
import { open, stat } from "node:fs/promises";
import { Readable } from "node:stream";
import { type Compression, detectCompression, MAGIC_LENGTH } from "./compression.js";
import { archiveError } from "./errors.js";
import { type SpoolOptions, spoolTar } from "./spooled-tar.js";

/** The argument that means standard input, as for tar, docker load and skopeo. */
const STDIN = "-";

/** How standard input is named in messages. */
const STDIN_NAME = "standard input";

export interface ArchiveInput {
  /** How the input is named in messages: the path as given, or "standard input". */
  name: string;
  kind: "tar" | "folder";
  /** The plain tar file (maybe a temporary one), or the layout folder, that the readers read. */
  path: string;
  /** The compression the input had (the file at `path` is plain). */
  compression?: Compression;
  fromStdin: boolean;
  /** Removes the temporary tar, if one was made. */
  close(): Promise<void>;
}

export interface InputOptions extends SpoolOptions {
  /** What `-` reads. Default: process.stdin. */
  stdin?: Readable & { isTTY?: boolean };
}

async function readHead(path: string): Promise<Buffer> {
  const handle = await open(path, "r");
  try {
    const buffer = Buffer.alloc(MAGIC_LENGTH);
    const { bytesRead } = await handle.read(buffer, 0, MAGIC_LENGTH, 0);
    return buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

/** `stream` with its first bytes read, and a stream that gives them again followed by the rest. */
async function peek(stream: Readable): Promise<{ head: Buffer; whole: Readable }> {
  const iterator = stream[Symbol.asyncIterator]();
  const first: Buffer[] = [];
  let length = 0;
  let done = false;
  while (length < MAGIC_LENGTH) {
    const next = await iterator.next();
    if (next.done) {
      done = true;
      break;
    }
    const chunk = Buffer.from(next.value as Uint8Array);
    first.push(chunk);
    length += chunk.length;
  }
  const head = Buffer.concat(first);
  const whole = Readable.from(
    (async function* () {
      if (head.length > 0) yield head;
      if (done) return;
      for (;;) {
        const next = await iterator.next();
        if (next.done) return;
        yield Buffer.from(next.value as Uint8Array);
      }
    })(),
    { objectMode: false },
  );
  return { head, whole };
}

/** Opens what `given` names. A path that is neither a file nor a folder is refused, naming it. */
export async function openInput(given: string, options: InputOptions = {}): Promise<ArchiveInput> {
  if (given === STDIN) {
    const stdin = options.stdin ?? process.stdin;
    if (stdin.isTTY) {
      throw archiveError(
        STDIN_NAME,
        "is a terminal, not a pipe",
        "pipe the image in, e.g. docker save IMAGE | buildx-step push - --repo REPO",
      );
    }
    // A stop ends the reading of the pipe, which may be waiting for bytes that never come.
    options.signal?.addEventListener("abort", () => stdin.destroy(), { once: true });
    const { head, whole } = await peek(stdin).catch((error: unknown) => {
      options.signal?.throwIfAborted();
      throw error;
    });
    options.signal?.throwIfAborted();
    if (head.length === 0) {
      throw archiveError(
        STDIN_NAME,
        "is empty: nothing came through the pipe",
        "check the command before the pipe (did docker save fail?)",
      );
    }
    const compression = detectCompression(head);
    const file = await spoolTar(whole, compression, STDIN_NAME, options);
    return {
      name: STDIN_NAME,
      kind: "tar",
      path: file.path,
      ...(compression ? { compression } : {}),
      fromStdin: true,
      close: () => file.remove(),
    };
  }

  let info: Awaited<ReturnType<typeof stat>>;
  try {
    info = await stat(given);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT") throw archiveError(given, "no such file", "check the path", "no-such-file");
    throw archiveError(
      given,
      `cannot be read (${code ?? String(error)})`,
      "check the path and its permissions",
    );
  }
  const none = async () => {};
  if (info.isDirectory()) return { name: given, kind: "folder", path: given, fromStdin: false, close: none };
  if (!info.isFile()) {
    throw archiveError(
      given,
      "is not a regular file or folder",
      "give the image tarball, an OCI layout folder, or - to read standard input",
    );
  }
  const compression = detectCompression(await readHead(given));
  if (!compression) return { name: given, kind: "tar", path: given, fromStdin: false, close: none };
  const file = await spoolTar(
    createReadStream(given, { highWaterMark: 1024 * 1024 }),
    compression,
    given,
    options,
  );
  return {
    name: given,
    kind: "tar",
    path: file.path,
    compression,
    fromStdin: false,
    close: () => file.remove(),
  };
}
