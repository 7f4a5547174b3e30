/**
 * The docker-archive `manifest.json` that `docker save` (and buildx's docker exporter) writes beside or
 * instead of an OCI layout: `[{"Config": path, "RepoTags": [...], "Layers": [paths]}]`.
 * https://github.com/moby/moby/blob/master/image/tarexport/tarexport.go
 *
 * Engines before 25 write no index.json: their archives hold a config (`<hex>.json`) and uncompressed
 * layer tars (`<id>/layer.tar`) but no registry manifest. For those a Docker v2 schema 2 manifest is
 * made here, with deterministic bytes, so the same archive always yields the same digest:
 *   config  application/vnd.docker.container.image.v1+json, digest = sha256 of the config file
 *   layers  application/vnd.docker.image.rootfs.diff.tar (uncompressed, as saved), digest = the layer's
 *           diff ID from the config's rootfs.diff_ids (for an uncompressed layer that IS the sha256 of
 *           the layer tar, so no layer is read to learn it; the push verifies it while streaming)
 * The digest a registry serves for such an archive is the sha256 of those manifest bytes: it is what
 * `inspect` reports. It differs from the digest `docker push` from the same engine gives, because docker
 * recompresses layers on push (gzip, not reproducible across versions) and this tool sends the
 * archive's bytes unchanged. Engines 25+ write an OCI index.json: then the archive's own manifests are
 * used, unchanged (see open.ts), and the digest is the one index.json records.
 */

import { digestOf, SHA256_DIGEST } from "../reference/digest.js";
import { DOCKER_CONFIG, DOCKER_LAYER_TAR, DOCKER_MANIFEST } from "../reference/media-types.js";
import { digestOfBlobPath, type EntryReader } from "./entry-reader.js";
import { archiveError } from "./errors.js";
import type { ImageTree } from "./image-tree.js";
import { formatPlatform } from "./platform.js";
import type { Descriptor, Platform } from "./types.js";

export interface DockerArchiveEntry {
  Config: string;
  RepoTags?: string[] | null;
  Layers: string[];
}

/** manifest.json's entries, checked for the fields every docker-archive has. */
export function parseDockerManifest(reader: EntryReader, value: unknown): DockerArchiveEntry[] {
  const fail = (problem: string) => archiveError(reader.path, `manifest.json ${problem}`);
  if (!Array.isArray(value)) throw fail("is not a list of images");
  return value.map((item: unknown, i) => {
    const entry = item as Partial<DockerArchiveEntry> | null;
    if (!entry || typeof entry.Config !== "string") throw fail(`entry ${i} has no "Config"`);
    if (!Array.isArray(entry.Layers) || entry.Layers.some((l) => typeof l !== "string")) {
      throw fail(`entry ${i} has no "Layers" list`);
    }
    if (entry.RepoTags != null && !Array.isArray(entry.RepoTags))
      throw fail(`entry ${i} has a malformed "RepoTags"`);
    return { Config: entry.Config, Layers: entry.Layers, RepoTags: entry.RepoTags ?? [] };
  });
}

/** The config digest a manifest.json entry names: from `blobs/sha256/<hex>` or a legacy `<hex>.json`. */
function configDigestOf(configPath: string): string | undefined {
  const fromBlob = digestOfBlobPath(configPath);
  if (fromBlob) return fromBlob;
  const legacy = /^([a-f0-9]{64})\.json$/.exec(configPath);
  return legacy ? `sha256:${legacy[1]}` : undefined;
}

interface LegacyConfig extends Partial<Platform> {
  rootfs?: { diff_ids?: string[] };
}

/** Normalises a path written in manifest.json the way entry names are (`./x` -> `x`). */
export function entryPath(path: string): string {
  return path.replace(/^(\.\/)+/, "");
}

/** The image of one manifest.json entry of an archive that has no index.json, with a manifest made for it. */
export async function legacyImage(
  reader: EntryReader,
  entry: DockerArchiveEntry,
  index: number,
): Promise<ImageTree> {
  const where = `manifest.json entry ${index}`;
  const configEntry = reader.tar.file(entryPath(entry.Config));
  if (!configEntry)
    throw archiveError(reader.path, `${where} names config ${entry.Config}, which is not in the tarball`);
  const configBytes = await reader.readSmall(configEntry, `config ${entry.Config}`);
  const configDigest = digestOf(configBytes);
  const named = configDigestOf(entryPath(entry.Config));
  if (named && named !== configDigest) {
    throw archiveError(
      reader.path,
      `config ${entry.Config} does not match its digest ${named} (the file is corrupt)`,
    );
  }
  // Its top-level fields and rootfs: labels further down may differ only in case.
  const config = reader.parseJson<LegacyConfig>(configBytes, `config ${entry.Config}`, 2);
  const diffIds = config.rootfs?.diff_ids ?? [];
  if (diffIds.length !== entry.Layers.length) {
    throw archiveError(
      reader.path,
      `${where} lists ${entry.Layers.length} layers but its config has ${diffIds.length} diff IDs`,
    );
  }
  const configDescriptor: Descriptor = {
    mediaType: DOCKER_CONFIG,
    digest: configDigest,
    size: configBytes.length,
  };
  reader.addBlob(configDigest, configEntry);

  const layers: Descriptor[] = entry.Layers.map((layerPath, i) => {
    const layerEntry = reader.tar.file(entryPath(layerPath));
    if (!layerEntry)
      throw archiveError(reader.path, `${where} names layer ${layerPath}, which is not in the tarball`);
    const digest = digestOfBlobPath(entryPath(layerPath)) ?? diffIds[i] ?? "";
    if (!SHA256_DIGEST.test(digest)) {
      throw archiveError(
        reader.path,
        `${where}: layer ${layerPath} has a malformed diff ID ${JSON.stringify(digest)}`,
      );
    }
    reader.addBlob(digest, layerEntry);
    return { mediaType: DOCKER_LAYER_TAR, digest, size: layerEntry.size };
  });

  // Key order and indentation fixed: these bytes are the manifest the registry stores, their sha256 its digest.
  const manifest = {
    schemaVersion: 2,
    mediaType: DOCKER_MANIFEST,
    config: configDescriptor,
    layers,
  };
  const bytes = Buffer.from(JSON.stringify(manifest, null, 3));
  const descriptor: Descriptor = { mediaType: DOCKER_MANIFEST, digest: digestOf(bytes), size: bytes.length };
  const platform = formatPlatform(config);
  const blobs = new Map<string, Descriptor>();
  for (const blob of [configDescriptor, ...layers]) blobs.set(blob.digest, blob);
  return {
    descriptor,
    manifests: [{ descriptor, platform, attestation: false, config: configDescriptor, layers }],
    missing: [],
    plan: { blobs: [...blobs.values()], manifests: [{ descriptor, bytes }] },
    platforms: platform ? [platform] : [],
    size: bytes.length + [...blobs.values()].reduce((sum, b) => sum + b.size, 0),
  };
}
