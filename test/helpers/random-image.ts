/**
 * A small image made of random bytes (layers of the given sizes, a config, an OCI manifest) as a push plan,
 * with its blobs' bytes: for pushing with the registry client, without an engine or a tarball.
 */
import { createHash, randomBytes } from "node:crypto";
import { Readable } from "node:stream";
import type { PushPlan } from "../../lib/archive/types.js";

export const sha256 = (bytes: Buffer) => `sha256:${createHash("sha256").update(bytes).digest("hex")}`;

/** The image; its blobs stream in pieces of 1000 bytes, like a file read would. */
export function makeImage(layerSizes: number[]) {
  const blobs = new Map<string, Buffer>();
  const layers = layerSizes.map((size) => {
    const bytes = randomBytes(size);
    blobs.set(sha256(bytes), bytes);
    return { mediaType: "application/vnd.oci.image.layer.v1.tar+gzip", digest: sha256(bytes), size };
  });
  const configBytes = Buffer.from(
    JSON.stringify({
      architecture: "amd64",
      os: "linux",
      rootfs: { type: "layers", diff_ids: layers.map((l) => l.digest) },
      config: {},
    }),
  );
  blobs.set(sha256(configBytes), configBytes);
  const config = {
    mediaType: "application/vnd.oci.image.config.v1+json",
    digest: sha256(configBytes),
    size: configBytes.length,
  };
  const manifestBytes = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: "application/vnd.oci.image.manifest.v1+json",
      config,
      layers,
    }),
  );
  const plan: PushPlan = {
    blobs: [config, ...layers],
    manifests: [
      {
        descriptor: {
          mediaType: "application/vnd.oci.image.manifest.v1+json",
          digest: sha256(manifestBytes),
          size: manifestBytes.length,
        },
        bytes: manifestBytes,
      },
    ],
  };
  /** Streams in pieces of 1000 bytes, like a file read would, to exercise the chunk splitting. */
  const openBlob = (digest: string) => {
    const bytes = blobs.get(digest);
    if (!bytes) throw new Error(`no blob ${digest}`);
    const pieces: Buffer[] = [];
    for (let i = 0; i < bytes.length; i += 1000) pieces.push(bytes.subarray(i, i + 1000));
    return Readable.from(pieces);
  };
  return { plan, blobs, openBlob, digest: plan.manifests[0]?.descriptor.digest ?? "" };
}
