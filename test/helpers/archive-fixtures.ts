/**
 * Hand-made image tarballs for unit tests, written with tar-stream: OCI layouts, docker-archive
 * manifest.json, legacy `docker save` layouts, and deliberately broken ones (headers written byte by
 * byte are in raw-tar.ts). Blobs are real content with real digests, so what the archive reader
 * reports can be checked against values computed here.
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
