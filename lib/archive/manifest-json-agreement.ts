/**
 * A docker-format tarball describes its images twice: index.json (the OCI layout, what the push, skopeo's
 * oci-archive and containerd's importer read) and manifest.json (the docker-archive, what `docker load` on
 * the classic store, skopeo's docker-archive and Trivy's `--input` read). buildx's docker exporter and
 * `docker save` from engine 25 on write both. If the two describe different images, a scanner checks one
 * image and the push publishes another, so the tarball is refused unless:
 * - every manifest.json entry is an image manifest reachable from index.json: the same config and the
 *   same layers in the same order (the same tar entries, so the same bytes). Not every manifest needs an
 *   entry: `docker save` of a multi-platform image writes one for one platform only;
 * - every image index.json lists has at least one manifest.json entry, so a docker-archive reader sees it;
 * - a RepoTag that index.json also gives (containerd's or the OCI ref-name annotation) names the same
 *   image in both files.
 * Then each RepoTag is added to the names of the image it belongs to.
 * https://github.com/moby/moby/blob/master/image/tarexport/tarexport.go (manifest.json) and
 * https://github.com/opencontainers/image-spec/blob/main/image-layout.md (index.json)
 */

import { canonicalImageName } from "../reference/name.js";
import { type DockerArchiveEntry, entryPath } from "./docker-save.js";
import type { EntryReader } from "./entry-reader.js";
import { ambiguousArchive } from "./errors.js";
import type { NameSet } from "./image-names.js";
import type { ImageTree } from "./image-tree.js";
import type { TarEntry } from "./tar-index.js";
import type { ArchiveManifest } from "./types.js";

/** An image of index.json and the names found for it so far. */
interface IndexedImage {
  tree: ImageTree;
  names: NameSet;
}

const WHO_READS =
  "docker load, skopeo's docker-archive and Trivy --input read manifest.json, the push reads index.json";

function describe(entry: DockerArchiveEntry, i: number): string {
  const tags = entry.RepoTags?.length ? ` (${entry.RepoTags.join(", ")})` : "";
  return `manifest.json entry ${i}${tags}`;
}

/** Whether manifest `m` is made of exactly the tar entries `config` and `layers`. */
function sameImage(reader: EntryReader, m: ArchiveManifest, config: TarEntry, layers: TarEntry[]): boolean {
  if (reader.blobEntry(m.config.digest) !== config) return false;
  if (m.layers.length !== layers.length) return false;
  return m.layers.every((layer, k) => reader.blobEntry(layer.digest) === layers[k]);
}

/** Checks that manifest.json and index.json describe the same images, and names them with the RepoTags. */
export function reconcileManifestJson(
  reader: EntryReader,
  entries: DockerArchiveEntry[],
  images: IndexedImage[],
): void {
  const path = reader.path;
  // The names index.json gives, before any RepoTag is added.
  const indexNames = images.map((image) => new Set(image.names.names.map(canonicalImageName)));
  const described = new Set<IndexedImage>();

  for (const [i, entry] of entries.entries()) {
    const where = describe(entry, i);
    const lookUp = (file: string, what: string): TarEntry => {
      const found = reader.tar.file(entryPath(file));
      if (!found)
        throw ambiguousArchive(
          path,
          `${where} names ${what} ${file}, which is not in the tarball (${WHO_READS})`,
          "image",
        );
      return found;
    };
    const config = lookUp(entry.Config, "config");
    const layers = entry.Layers.map((layer) => lookUp(layer, "layer"));
    const owners = images.filter((image) =>
      image.tree.manifests.some((m) => sameImage(reader, m, config, layers)),
    );
    if (owners.length === 0) {
      throw ambiguousArchive(
        path,
        `${where} is config ${entry.Config} with layers ${entry.Layers.join(", ")}, which no image manifest of index.json has: ${WHO_READS}, so a scanner would check another image than the one pushed`,
        "image",
      );
    }
    for (const owner of owners) described.add(owner);

    for (const tag of entry.RepoTags ?? []) {
      const key = canonicalImageName(tag);
      const namedByIndex = images.filter((_, k) => indexNames[k]?.has(key));
      const agreeing = namedByIndex.filter((image) => owners.includes(image));
      if (namedByIndex.length > 0 && agreeing.length === 0) {
        const indexDigests = namedByIndex.map((image) => image.tree.descriptor.digest).join(", ");
        throw ambiguousArchive(
          path,
          `${where} gives ${tag} to config ${entry.Config}, but index.json gives ${tag} to ${indexDigests}, which has no such manifest: ${WHO_READS}`,
          "image",
        );
      }
      for (const image of namedByIndex.length > 0 ? agreeing : owners) image.names.add(tag);
    }
  }

  const missing = images.filter((image) => !described.has(image));
  if (missing.length > 0) {
    const list = missing
      .map(
        (image) =>
          `${image.tree.descriptor.digest}${image.names.names.length ? ` (${image.names.names.join(", ")})` : ""}`,
      )
      .join(", ");
    throw ambiguousArchive(
      path,
      `index.json lists ${list} but manifest.json has no entry for any of its manifests: ${WHO_READS}, so a scanner reading manifest.json never sees what would be pushed`,
      "image",
    );
  }
}
