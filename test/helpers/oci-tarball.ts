/**
 * An OCI-layout image tarball written here (no engine, no build): a config, the given layers and a
 * manifest, named by `org.opencontainers.image.ref.name`. For CLI pushes that need a tarball fast, or one
 * with a large random layer.
 */
import { randomBytes } from "node:crypto";
import { type Blob, blob, ociLayoutItems, writeTar } from "./archive-fixtures.js";

export interface OciTarball {
  path: string;
  /** The manifest digest: what the registry serves for the pushed tags. */
  digest: string;
  layers: Blob[];
}

export async function writeOciTarball(
  path: string,
  options: { layers?: Buffer[]; name?: string } = {},
): Promise<OciTarball> {
  const layers = (options.layers ?? [randomBytes(2_000)]).map((bytes) => blob(bytes));
  const config = blob({
    architecture: "amd64",
    os: "linux",
    rootfs: { type: "layers", diff_ids: layers.map((l) => l.digest) },
  });
  const manifest = blob({
    schemaVersion: 2,
    mediaType: "application/vnd.oci.image.manifest.v1+json",
    config: {
      mediaType: "application/vnd.oci.image.config.v1+json",
      digest: config.digest,
      size: config.size,
    },
    layers: layers.map((l) => ({
      mediaType: "application/vnd.oci.image.layer.v1.tar",
      digest: l.digest,
      size: l.size,
    })),
  });
  await writeTar(
    path,
    ociLayoutItems(
      [
        {
          mediaType: "application/vnd.oci.image.manifest.v1+json",
          digest: manifest.digest,
          size: manifest.size,
          annotations: { "org.opencontainers.image.ref.name": options.name ?? "buildx-step-test/oci:latest" },
        },
      ],
      [config, ...layers, manifest],
    ),
  );
  return { path, digest: manifest.digest, layers };
}
