/**
 * Opens an image tarball: indexes its tar headers once, recognises the format, and resolves every image
 * to what a registry would receive. Blobs are read later, as byte ranges, by whoever pushes.
 *
 * Formats (see ArchiveFormat):
 * - `docker`: buildx `--output type=docker`: index.json + oci-layout + blobs/ and a docker-archive
 *   manifest.json (no `repositories` file).
 * - `oci`: buildx `--output type=oci`: index.json + oci-layout + blobs/, possibly a multi-platform index
 *   with attestation manifests.
 * - `docker-save`: `docker save` from the classic store: manifest.json + `repositories`, and from engine
 *   25 on an index.json too (then its manifests are used as they are: OCI manifests with uncompressed
 *   layers, digest = the one index.json records); before 25 no index.json, and a manifest is made (see
 *   docker-save.ts for which digest results).
 */
import { legacyImage, parseDockerManifest } from "./docker-save.js";
import { EntryReader } from "./entry-reader.js";
import { archiveError } from "./errors.js";
import { NameSet } from "./image-names.js";
import { type ImageTree, walkImage } from "./image-tree.js";
import { reconcileManifestJson } from "./manifest-json-agreement.js";
import { indexTar } from "./tar-index.js";
import type {
  ArchiveFormat,
  ArchiveImage,
  Descriptor,
  OpenedArchive,
  OpenedImage,
  PushPlan,
} from "./types.js";

interface IndexJson {
  manifests?: Descriptor[];
}

/** Opens the tarball at `path`; a file that is not a usable image tarball is a UsageError naming it. */
export async function openArchive(path: string): Promise<OpenedArchive> {
  const tar = await indexTar(path);
  const reader = new EntryReader(tar);
  const indexJson = await reader.readNamedJson<IndexJson>("index.json");
  const manifestJson = await reader.readNamedJson<unknown>("manifest.json");
  if (!indexJson && !manifestJson) {
    throw archiveError(
      path,
      "has neither index.json (OCI layout) nor manifest.json (docker-archive), so it is not an image tarball",
    );
  }
  const dockerEntries = manifestJson ? parseDockerManifest(reader, manifestJson.value) : [];
  // buildx's docker exporter writes no `repositories` file; docker save always does.
  const format: ArchiveFormat =
    manifestJson && (!indexJson || tar.file("repositories"))
      ? "docker-save"
      : manifestJson
        ? "docker"
        : "oci";

  const trees: { tree: ImageTree; names: NameSet }[] = [];
  if (indexJson) {
    const top = indexJson.value.manifests;
    if (!Array.isArray(top) || top.length === 0)
      throw archiveError(path, 'index.json lists no images ("manifests" is empty)');
    const byDigest = new Map<string, { tree: ImageTree; names: NameSet }>();
    for (const descriptor of top) {
      if (!descriptor || typeof descriptor !== "object")
        throw archiveError(path, "index.json has an entry that is not a descriptor");
      let image = byDigest.get(descriptor?.digest);
      if (!image) {
        image = { tree: await walkImage(reader, descriptor), names: new NameSet() };
        byDigest.set(descriptor.digest, image);
        trees.push(image);
      }
      image.names.addAnnotations(descriptor.annotations);
    }
    // A scanner may read manifest.json where the push reads index.json: they must describe the same
    // images, and manifest.json's RepoTags then name the image they belong to.
    if (manifestJson) reconcileManifestJson(reader, dockerEntries, trees);
  } else {
    if (dockerEntries.length === 0) throw archiveError(path, "manifest.json lists no images");
    const byDigest = new Map<string, { tree: ImageTree; names: NameSet }>();
    for (const [i, entry] of dockerEntries.entries()) {
      const tree = await legacyImage(reader, entry, i);
      let image = byDigest.get(tree.descriptor.digest);
      if (!image) {
        image = { tree, names: new NameSet() };
        byDigest.set(tree.descriptor.digest, image);
        trees.push(image);
      }
      for (const tag of entry.RepoTags ?? []) image.names.add(tag);
    }
  }

  const plans = new Map<ArchiveImage, PushPlan>();
  const images: OpenedImage[] = trees.map(({ tree, names }) => {
    // index.json's per-entry annotations (ref names, dates) describe the entry, not what the registry serves.
    const { annotations: _annotations, ...descriptor } = tree.descriptor;
    const image: OpenedImage = {
      names: names.names,
      descriptor,
      platforms: tree.platforms,
      size: tree.size,
      manifests: tree.manifests,
    };
    plans.set(image, tree.plan);
    return image;
  });

  return {
    path,
    format,
    images,
    async plan(image) {
      const plan =
        plans.get(image) ??
        [...plans.entries()].find(([i]) => i.descriptor.digest === image.descriptor.digest)?.[1];
      if (!plan) throw archiveError(path, `has no image ${image.descriptor.digest}`);
      return { blobs: [...plan.blobs], manifests: [...plan.manifests], foreign: [...(plan.foreign ?? [])] };
    },
    openBlob(digest) {
      return reader.openBlob(digest);
    },
  };
}
