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
import { archiveError, NOT_AN_IMAGE_ADVICE } from "./errors.js";
import { indexFolder } from "./folder-index.js";
import { NameSet } from "./image-names.js";
import { type ImageTree, walkImage } from "./image-tree.js";
import { type ArchiveInput, type InputOptions, openInput } from "./input.js";
import { reconcileManifestJson } from "./manifest-json-agreement.js";
import { describeProducer } from "./producer.js";
import { indexTar, type TarIndex } from "./tar-index.js";
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

/**
 * Opens the image archive `given` names: a tarball (plain or compressed), `-` for standard input, or an
 * OCI layout folder (see input.ts). Anything that is not a usable image archive is refused, naming it.
 * The caller closes the archive when done: that removes the temporary tar of a compressed or piped one.
 */
export async function openArchive(given: string, options: InputOptions = {}): Promise<OpenedArchive> {
  const input = await openInput(given, options);
  try {
    const tar =
      input.kind === "folder"
        ? await indexFolder(input.path, input.name)
        : await indexTar(input.path, input.name);
    return await readArchive(tar, input);
  } catch (error) {
    await input.close();
    throw error;
  }
}

async function readArchive(tar: TarIndex, input: ArchiveInput): Promise<OpenedArchive> {
  const path = input.name;
  const reader = new EntryReader(tar);
  const indexJson = await reader.readNamedJson<IndexJson>("index.json");
  const manifestJson = await reader.readNamedJson<unknown>("manifest.json");
  if (!indexJson && !manifestJson) {
    // Not a damaged image (a copy that went wrong does not lose exactly those two files): most often
    // a root file system, as `buildx --output type=tar` or `tar -c` of a folder write it.
    const names = [...tar.entries.keys()];
    const sample = names.slice(0, 5).join(", ");
    throw archiveError(
      path,
      names.length === 0
        ? "is an empty tar (it holds no files), not an image"
        : `is a plain tar of files (${sample}${names.length > 5 ? `, ... ${names.length} in all` : ""}), not an image: it has neither index.json (OCI layout) nor manifest.json (docker-archive). buildx --output type=tar and tar -c write such a file system tar`,
      NOT_AN_IMAGE_ADVICE,
      "not-an-archive",
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
      missing: tree.missing,
    };
    plans.set(image, tree.plan);
    return image;
  });

  return {
    path,
    format,
    producer: describeProducer({
      format,
      hasIndexJson: Boolean(indexJson),
      layerPaths: dockerEntries.flatMap((entry) => entry.Layers),
    }),
    input: {
      kind: input.kind,
      file: input.path,
      fromStdin: input.fromStdin,
      ...(input.compression ? { compression: input.compression } : {}),
    },
    images,
    close: () => input.close(),
    async plan(image) {
      const plan =
        plans.get(image) ??
        [...plans.entries()].find(([i]) => i.descriptor.digest === image.descriptor.digest)?.[1];
      if (!plan) throw archiveError(path, `has no image ${image.descriptor.digest}`);
      return { blobs: [...plan.blobs], manifests: [...plan.manifests], foreign: [...(plan.foreign ?? [])] };
    },
    manifestImage(image, manifest) {
      const whole = plans.get(image);
      const bytes = whole?.manifests.find((m) => m.descriptor.digest === manifest.descriptor.digest)?.bytes;
      if (!whole || !bytes)
        throw archiveError(
          path,
          `has no manifest ${manifest.descriptor.digest} in ${image.descriptor.digest}`,
        );
      // The registry serves the manifest by its own digest and media type; the index entry's platform
      // and annotations describe it within the index only.
      const { platform: _platform, annotations: _annotations, ...descriptor } = manifest.descriptor;
      const own = new Set([manifest.config.digest, ...manifest.layers.map((layer) => layer.digest)]);
      const plan: PushPlan = {
        blobs: whole.blobs.filter((blob) => own.has(blob.digest)),
        manifests: [{ descriptor, bytes }],
        foreign: (whole.foreign ?? []).filter((blob) => own.has(blob.digest)),
      };
      const single: OpenedImage = {
        names: image.names,
        descriptor,
        platforms: manifest.platform ? [manifest.platform] : [],
        size: descriptor.size + plan.blobs.reduce((sum, blob) => sum + blob.size, 0),
        manifests: [manifest],
        missing: [],
      };
      plans.set(single, plan);
      return single;
    },
    openBlob(digest) {
      return reader.openBlob(digest);
    },
  };
}
