/**
 * Hand-made image tarballs for unit tests, written with tar-stream: OCI layouts, docker-archive
 * manifest.json, legacy `docker save` layouts, and deliberately broken ones. Blobs are real content
 * with real digests, so what the archive reader reports can be checked against values computed here.
 */
import { createHash } from "node:crypto";
import { createWriteStream } from "node:fs";
import { pipeline } from "node:stream/promises";
import tar from "tar-stream";

export interface Blob {
  digest: string;
  size: number;
  bytes: Buffer;
}

export function blob(content: string | Buffer | object): Blob {
  const bytes = Buffer.isBuffer(content)
    ? content
    : Buffer.from(typeof content === "string" ? content : JSON.stringify(content));
  return { digest: `sha256:${createHash("sha256").update(bytes).digest("hex")}`, size: bytes.length, bytes };
}

export function blobName(b: { digest: string }): string {
  return `blobs/sha256/${b.digest.slice("sha256:".length)}`;
}

export interface TarItem {
  name: string;
  data?: Buffer | string;
  type?: "file" | "directory" | "symlink" | "link";
  linkname?: string;
  pax?: Record<string, string>;
}

/** Writes `items` as a tar file at `path` (ustar headers; PAX headers where a name needs one). */
export async function writeTar(path: string, items: TarItem[]): Promise<string> {
  const pack = tar.pack();
  const done = pipeline(pack, createWriteStream(path));
  for (const item of items) {
    const data = item.data === undefined ? undefined : Buffer.from(item.data);
    // tar-stream writes a PAX header for `pax`, and for names ustar cannot hold.
    const header: Partial<tar.Header> & { name: string } = {
      name: item.name,
      type: item.type ?? "file",
      mtime: new Date(0),
      ...(item.linkname ? { linkname: item.linkname } : {}),
      ...(item.pax ? { pax: item.pax } : {}),
    };
    if (data) {
      header.size = data.length;
      await new Promise<void>((resolve, reject) =>
        pack.entry(header, data, (e) => (e ? reject(e) : resolve())),
      );
    } else {
      await new Promise<void>((resolve, reject) => pack.entry(header, (e) => (e ? reject(e) : resolve())));
    }
  }
  pack.finalize();
  await done;
  return path;
}

export interface SampleImage {
  config: Blob;
  layers: Blob[];
  manifest: Blob;
  mediaType: string;
}

/** A single-platform image: a config, `layerCount` small layers and a manifest of `mediaType`. */
export function sampleImage(
  options: { arch?: string; seed?: string; layerCount?: number; mediaType?: string } = {},
): SampleImage {
  const arch = options.arch ?? "amd64";
  const seed = options.seed ?? "s";
  const layers = Array.from({ length: options.layerCount ?? 2 }, (_, i) =>
    blob(`layer ${i} ${arch} ${seed}`),
  );
  const config = blob({ architecture: arch, os: "linux", rootfs: { type: "layers", diff_ids: [] } });
  const docker = options.mediaType === "application/vnd.docker.distribution.manifest.v2+json";
  const mediaType = options.mediaType ?? "application/vnd.oci.image.manifest.v1+json";
  const manifest = blob({
    schemaVersion: 2,
    mediaType,
    config: {
      mediaType: docker
        ? "application/vnd.docker.container.image.v1+json"
        : "application/vnd.oci.image.config.v1+json",
      digest: config.digest,
      size: config.size,
    },
    layers: layers.map((l) => ({
      mediaType: docker
        ? "application/vnd.docker.image.rootfs.diff.tar.gzip"
        : "application/vnd.oci.image.layer.v1.tar+gzip",
      digest: l.digest,
      size: l.size,
    })),
  });
  return { config, layers, manifest, mediaType };
}

/** The tar items of an OCI layout whose index.json lists `entries` and which holds `blobs`. */
export function ociLayoutItems(entries: object[], blobs: Blob[]): TarItem[] {
  const unique = new Map(blobs.map((b) => [b.digest, b]));
  return [
    { name: "oci-layout", data: JSON.stringify({ imageLayoutVersion: "1.0.0" }) },
    {
      name: "index.json",
      data: JSON.stringify({
        schemaVersion: 2,
        mediaType: "application/vnd.oci.image.index.v1+json",
        manifests: entries,
      }),
    },
    ...[...unique.values()].map((b) => ({ name: blobName(b), data: b.bytes })),
  ];
}

export function imageBlobs(image: SampleImage): Blob[] {
  return [image.config, ...image.layers, image.manifest];
}

/**
 * A ustar header built by hand, for cases tar-stream does not write: GNU base-256 sizes, PAX `size`
 * records, headers in front of sparse data. `size` goes into the size field as octal unless
 * `base256` is set; the checksum is computed.
 */
export function ustarHeader(
  name: string,
  size: number,
  options: { typeflag?: string; base256?: boolean } = {},
): Buffer {
  const header = Buffer.alloc(512);
  header.write(name, 0, 100, "utf8");
  header.write("0000644\0", 100);
  header.write("0000000\0", 108);
  header.write("0000000\0", 116);
  if (options.base256) {
    // GNU: top bit of the first byte set, the value big-endian in the remaining 11 bytes.
    header[124] = 0x80;
    let value = size;
    for (let i = 135; i > 124; i--) {
      header[i] = value % 256;
      value = Math.floor(value / 256);
    }
  } else {
    header.write(`${size.toString(8).padStart(11, "0")}\0`, 124);
  }
  header.write("00000000000\0", 136);
  header.write("        ", 148);
  header.write(options.typeflag ?? "0", 156);
  header.write("ustar\0", 257);
  header.write("00", 263);
  let sum = 0;
  for (const byte of header) sum += byte;
  header.write(`${sum.toString(8).padStart(6, "0")}\0 `, 148);
  return header;
}

/** A PAX extended header's data: `"<length> <key>=<value>\n"` records. */
export function paxRecords(records: Record<string, string>): Buffer {
  let out = "";
  for (const [key, value] of Object.entries(records)) {
    const body = ` ${key}=${value}\n`;
    let length = body.length + 1;
    while (`${length}${body}`.length !== length) length++;
    out += `${length}${body}`;
  }
  return Buffer.from(out);
}

/** Data padded to the 512-byte tar block. */
export function padBlock(data: Buffer): Buffer {
  return Buffer.concat([data, Buffer.alloc((512 - (data.length % 512)) % 512)]);
}
