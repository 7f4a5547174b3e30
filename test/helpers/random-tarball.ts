/**
 * Image tarballs of random data, large ones too, for tests, the benchmarks and the soak: written to disk
 * as they are made, never held in memory whole. Layers are uncompressed tars holding
 * one file of random bytes (every pusher then moves the same bytes, none spends time on gzip), written
 * once as files of their own so that several tarballs can share them, as images built on one base do.
 * The tarball has the layout `buildx --output type=docker` writes: an OCI layout (oci-layout,
 * index.json, blobs/sha256/...) with a docker-archive manifest.json beside it, so that buildx-step,
 * `docker load` and skopeo's docker-archive transport all read it.
 */
import { createHash, randomFillSync } from "node:crypto";
import { once } from "node:events";
import { createReadStream, createWriteStream } from "node:fs";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { Transform } from "node:stream";
import tarStream from "tar-stream";

export interface Blob {
  mediaType: string;
  digest: string;
  size: number;
  /** Where its bytes are, as a file of their own (the layers) or in memory (config, manifest). */
  file?: string;
  bytes?: Buffer;
}

export interface BenchImage {
  tarball: string;
  /** The blobs as separate files, for the curl baseline. */
  layers: Blob[];
  config: Blob;
  manifest: Blob;
  name: string;
}

export const MB = 1_000_000;

const sha256 = (bytes: Buffer) => `sha256:${createHash("sha256").update(bytes).digest("hex")}`;

/** Writes a layer: an uncompressed tar holding one file of `size` random bytes. Returns its blob. */
export async function writeRandomLayer(path: string, size: number, index: number): Promise<Blob> {
  const pack = tarStream.pack();
  const out = createWriteStream(path);
  const hash = createHash("sha256");
  let bytes = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      hash.update(chunk);
      bytes += chunk.length;
      callback(null, chunk);
    },
  });
  pack.pipe(counter).pipe(out);
  const entry = pack.entry({ name: `random-${index}.bin`, size, mode: 0o644, mtime: new Date(0) });
  const chunk = Buffer.alloc(1024 * 1024);
  for (let written = 0; written < size; ) {
    const length = Math.min(chunk.length, size - written);
    randomFillSync(chunk, 0, length);
    // Copy: the buffer is refilled before the stream may have consumed it.
    if (!entry.write(Buffer.from(chunk.subarray(0, length)))) await once(entry, "drain");
    written += length;
  }
  entry.end(Buffer.alloc(0));
  pack.finalize();
  await once(out, "finish");
  return {
    mediaType: "application/vnd.oci.image.layer.v1.tar",
    digest: `sha256:${hash.digest("hex")}`,
    size: bytes,
    file: path,
  };
}

export interface ImageOptions {
  /** Config labels (the soak finds what its runs left in the engine by one). */
  labels?: Record<string, string>;
}

/** Writes the image tarball `dir/image.tar` of the given layers (files written by {@link writeRandomLayer}). */
export async function writeImageTarball(
  dir: string,
  layers: Blob[],
  name: string,
  options: ImageOptions = {},
): Promise<BenchImage> {
  await mkdir(dir, { recursive: true });
  const configBytes = Buffer.from(
    JSON.stringify({
      architecture: "amd64",
      os: "linux",
      config: { Cmd: ["/random-0.bin"], ...(options.labels ? { Labels: options.labels } : {}) },
      rootfs: { type: "layers", diff_ids: layers.map((l) => l.digest) },
      history: layers.map(() => ({ created_by: "buildx-step random tarball" })),
    }),
  );
  const config: Blob = {
    mediaType: "application/vnd.oci.image.config.v1+json",
    digest: sha256(configBytes),
    size: configBytes.length,
    bytes: configBytes,
  };
  const manifestBytes = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: "application/vnd.oci.image.manifest.v1+json",
      config: { mediaType: config.mediaType, digest: config.digest, size: config.size },
      layers: layers.map((l) => ({ mediaType: l.mediaType, digest: l.digest, size: l.size })),
    }),
  );
  const manifest: Blob = {
    mediaType: "application/vnd.oci.image.manifest.v1+json",
    digest: sha256(manifestBytes),
    size: manifestBytes.length,
    bytes: manifestBytes,
  };
  const hex = (digest: string) => digest.slice("sha256:".length);
  const index = {
    schemaVersion: 2,
    mediaType: "application/vnd.oci.image.index.v1+json",
    manifests: [
      {
        mediaType: manifest.mediaType,
        digest: manifest.digest,
        size: manifest.size,
        annotations: {
          "io.containerd.image.name": `docker.io/${name}`,
          "org.opencontainers.image.ref.name": "latest",
        },
      },
    ],
  };
  const dockerManifest = [
    {
      Config: `blobs/sha256/${hex(config.digest)}`,
      RepoTags: [name],
      Layers: layers.map((l) => `blobs/sha256/${hex(l.digest)}`),
    },
  ];

  const tarball = join(dir, "image.tar");
  const pack = tarStream.pack();
  const out = createWriteStream(tarball);
  pack.pipe(out);
  const add = (entryName: string, bytes: Buffer) =>
    new Promise<void>((resolve, reject) =>
      pack.entry({ name: entryName, mtime: new Date(0) }, bytes, (error) =>
        error ? reject(error) : resolve(),
      ),
    );
  await add("oci-layout", Buffer.from('{"imageLayoutVersion":"1.0.0"}'));
  for (const layer of layers) {
    const entry = pack.entry({
      name: `blobs/sha256/${hex(layer.digest)}`,
      size: layer.size,
      mtime: new Date(0),
    });
    const source = createReadStream(layer.file as string, { highWaterMark: 1024 * 1024 });
    source.pipe(entry);
    await once(entry, "finish");
  }
  await add(`blobs/sha256/${hex(config.digest)}`, configBytes);
  await add(`blobs/sha256/${hex(manifest.digest)}`, manifestBytes);
  await add("index.json", Buffer.from(JSON.stringify(index)));
  await add("manifest.json", Buffer.from(JSON.stringify(dockerManifest)));
  pack.finalize();
  await once(out, "finish");
  return { tarball, layers, config, manifest, name };
}

/** An image of new random layers of the given sizes, its layer files in `dir/layers`. */
export async function generateImage(
  dir: string,
  layerSizes: number[],
  name: string,
  options: ImageOptions = {},
): Promise<BenchImage> {
  await mkdir(join(dir, "layers"), { recursive: true });
  const layers: Blob[] = [];
  for (const [i, size] of layerSizes.entries()) {
    layers.push(await writeRandomLayer(join(dir, "layers", `layer-${i}.tar`), size, i));
  }
  return writeImageTarball(dir, layers, name, options);
}
