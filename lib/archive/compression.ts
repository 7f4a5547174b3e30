/**
 * Compressed image tarballs: `docker save app | gzip > app.tar.gz` is how CI keeps an image as an
 * artifact, and `docker load` reads gzip, bzip2, xz and zstd. The kind is told by the file's first bytes,
 * never by its name, as moby does (pkg/archive DetectCompression:
 * https://github.com/moby/moby/blob/master/pkg/archive/archive.go).
 *
 * Each decoder is a stream: memory stays a few buffers whatever the file's size.
 * - gzip: Node's zlib (multi-member files, as `gzip -c a b` and pigz write, are read whole).
 * - zstd: fzstd, a streaming Zstandard decoder in plain JavaScript (no native build, so nothing to compile
 *   or download at install time); Node 20's zlib has no zstd (it came in Node 22.15).
 * - xz: xz-decompress, XZ Embedded (the decoder of the Linux kernel) compiled to WebAssembly, streaming.
 * - bzip2: unbzip2-stream, the streaming bzip2 decoder in plain JavaScript most tools use.
 */
import { Duplex, Readable } from "node:stream";

export type Compression = "gzip" | "zstd" | "xz" | "bzip2";

/** Enough of a file's start to tell every kind below. */
export const MAGIC_LENGTH = 6;

const MAGIC: [Compression, number[]][] = [
  // RFC 1952 section 2.3.1: ID1 ID2.
  ["gzip", [0x1f, 0x8b]],
  // RFC 8878 section 3.1.1: the frame magic 0xFD2FB528, little-endian.
  ["zstd", [0x28, 0xb5, 0x2f, 0xfd]],
  // The .xz file format, section 2.1.1.1: 0xFD '7zXZ' 0x00.
  ["xz", [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]],
  // bzip2's stream header "BZh".
  ["bzip2", [0x42, 0x5a, 0x68]],
];

/** The compression of a file that starts with `head`, or undefined for anything else (a plain tar). */
export function detectCompression(head: Uint8Array): Compression | undefined {
  for (const [kind, magic] of MAGIC) {
    if (head.length >= magic.length && magic.every((byte, i) => head[i] === byte)) return kind;
  }
  return undefined;
}

/** How each kind is named to a user, and the command that writes it. */
export const COMPRESSION_LABELS: Record<Compression, string> = {
  gzip: "gzip-compressed",
  zstd: "zstd-compressed",
  xz: "xz-compressed",
  bzip2: "bzip2-compressed",
};

// The decoders are loaded when a file needs one: a push of a plain tarball does not pay for them.
async function zstdDecoder(): Promise<Duplex> {
  const { Decompress: ZstdDecoder } = await import("fzstd");
  return Duplex.from(async function* (source: AsyncIterable<Buffer>) {
    const out: Uint8Array[] = [];
    const decoder = new ZstdDecoder((chunk) => {
      out.push(chunk);
    });
    for await (const chunk of source) {
      decoder.push(chunk);
      // Handed on chunk by chunk, so that the consumer's back-pressure reaches the file read.
      while (out.length > 0) yield Buffer.from(out.shift() as Uint8Array);
    }
    // fzstd throws here when the last frame is incomplete: the file was cut short.
    decoder.push(new Uint8Array(0), true);
    while (out.length > 0) yield Buffer.from(out.shift() as Uint8Array);
  });
}

async function xzDecoder(): Promise<Duplex> {
  // A CommonJS module: its exports are the default export's properties.
  const { XzReadableStream } = (await import("xz-decompress")).default;
  return Duplex.from(async function* (source: AsyncIterable<Buffer>) {
    const input = Readable.toWeb(Readable.from(source)) as ReadableStream<Uint8Array>;
    for await (const chunk of Readable.fromWeb(new XzReadableStream(input))) yield chunk as Buffer;
  });
}

async function bzip2Decoder(): Promise<Duplex> {
  const { default: unbzip2 } = await import("unbzip2-stream");
  // unbzip2-stream is a `through` stream (streams1), which ignores back-pressure: it is fed one chunk at
  // a time, and the next only once what it gave has been taken, so memory stays bounded.
  return Duplex.from(async function* (source: AsyncIterable<Buffer>) {
    const decoder = unbzip2();
    const out: Buffer[] = [];
    let failed: Error | undefined;
    let ended = false;
    decoder.on("data", (chunk: Buffer) => out.push(chunk));
    decoder.on("error", (error: Error) => {
      failed = error;
    });
    decoder.on("end", () => {
      ended = true;
    });
    for await (const chunk of source) {
      decoder.write(chunk);
      if (failed) throw failed;
      while (out.length > 0) yield out.shift() as Buffer;
    }
    decoder.end();
    if (failed) throw failed;
    while (out.length > 0) yield out.shift() as Buffer;
    // unbzip2-stream ends without an error when the input stops inside a block: that is a cut file.
    if (!ended) throw new Error("unexpected end of file");
  });
}

/** A stream that takes the compressed bytes and gives the tar's bytes. */
export async function decompressor(kind: Compression): Promise<Duplex> {
  switch (kind) {
    case "gzip":
      // Loaded here: a plain tarball's push never needs zlib.
      return process.getBuiltinModule("node:zlib").createGunzip({ chunkSize: 256 * 1024 });
    case "zstd":
      return zstdDecoder();
    case "xz":
      return xzDecoder();
    case "bzip2":
      return bzip2Decoder();
  }
}
