/**
 * Everything one image is made of, walked from its top descriptor (an index or a manifest) through the
 * OCI layout's blobs: the manifests with their exact bytes (what the registry will store and serve),
 * the configs and layers (checked present and of the size claimed), platforms and total size.
 */

import {
  ATTESTATION_MANIFEST,
  isForeignLayer,
  isIndex,
  isManifest,
  isNonDistributable,
  REFERENCE_TYPE_ANNOTATION,
} from "../reference/media-types.js";
import type { EntryReader } from "./entry-reader.js";
import { archiveError } from "./errors.js";
import { formatPlatform } from "./platform.js";
import type { ArchiveManifest, Descriptor, MissingManifest, Platform, PushPlan } from "./types.js";

/** Indexes nest (an index of indexes); real ones are one or two deep. */
const MAX_DEPTH = 8;

export interface ImageTree {
  descriptor: Descriptor;
  manifests: ArchiveManifest[];
  /** Manifests an index lists that the archive does not hold (a partial save); empty when complete. */
  missing: MissingManifest[];
  plan: PushPlan;
  platforms: string[];
  size: number;
}

interface IndexDocument {
  mediaType?: string;
  manifests?: Descriptor[];
}

interface ManifestDocument {
  mediaType?: string;
  config?: Descriptor;
  layers?: Descriptor[];
}

interface ConfigDocument {
  os?: string;
  architecture?: string;
  variant?: string;
}

/** Copies only the descriptor fields the spec defines, so nothing odd from the JSON travels on. */
function descriptorOf(value: Descriptor): Descriptor {
  return {
    mediaType: value.mediaType,
    digest: value.digest,
    size: value.size,
    ...(value.platform ? { platform: value.platform } : {}),
    ...(value.annotations ? { annotations: value.annotations } : {}),
    ...(value.urls !== undefined ? { urls: value.urls } : {}),
  };
}

/** Whether a layer is foreign (see isForeignLayer); a malformed "urls" is refused. */
function isForeign(layer: Descriptor, reader: EntryReader, label: string): boolean {
  if (layer.urls === undefined) return false;
  if (!Array.isArray(layer.urls) || layer.urls.some((url) => typeof url !== "string" || url === "")) {
    throw archiveError(
      reader.path,
      `${label} gives ${layer.digest} a malformed "urls" (a list of URLs is expected)`,
    );
  }
  return isForeignLayer(layer);
}

/** Walks the image whose top descriptor is `top` (as index.json records it). */
export async function walkImage(reader: EntryReader, top: Descriptor): Promise<ImageTree> {
  const manifests: ArchiveManifest[] = [];
  const pushManifests: PushPlan["manifests"] = [];
  const blobs = new Map<string, Descriptor>();
  const foreign = new Map<string, Descriptor>();
  const seenManifests = new Set<string>();
  const missing: MissingManifest[] = [];

  const visit = async (descriptor: Descriptor, where: string, depth: number): Promise<void> => {
    if (depth > MAX_DEPTH)
      throw archiveError(reader.path, `indexes nest deeper than ${MAX_DEPTH} levels at ${where}`);
    if (seenManifests.has(descriptor.digest)) return;
    // `docker save` of a multi-platform image that was pulled for one platform (containerd image store)
    // writes the whole index but only that platform's manifest and blobs. What is absent is recorded,
    // not refused here: inspect shows it, and the push refuses the whole image but can push a platform
    // that is there (push-input.ts). A manifest that is there must be whole.
    if (depth > 0 && typeof descriptor?.digest === "string" && !reader.blobEntry(descriptor.digest)) {
      reader.checkDescriptor(descriptor, where);
      seenManifests.add(descriptor.digest);
      const attestation = descriptor.annotations?.[REFERENCE_TYPE_ANNOTATION] === ATTESTATION_MANIFEST;
      missing.push({
        descriptor: descriptorOf(descriptor),
        ...(attestation ? {} : { platform: formatPlatform(descriptor.platform) }),
        attestation,
      });
      return;
    }
    const { bytes, value } = await reader.readJsonBlob<IndexDocument & ManifestDocument>(descriptor, where);
    // The descriptor's media type is what the registry is told; the document's own field must agree.
    const mediaType = descriptor.mediaType ?? value.mediaType;
    if (value.mediaType && descriptor.mediaType && value.mediaType !== descriptor.mediaType) {
      throw archiveError(
        reader.path,
        `${where} says ${descriptor.digest} is ${descriptor.mediaType} but the document says ${value.mediaType}`,
      );
    }
    if (!mediaType) throw archiveError(reader.path, `${where} gives ${descriptor.digest} no media type`);
    const label = `${mediaType.includes("index") || mediaType.includes("list") ? "index" : "manifest"} ${descriptor.digest}`;
    seenManifests.add(descriptor.digest);

    if (isIndex(mediaType)) {
      if (!Array.isArray(value.manifests))
        throw archiveError(reader.path, `${label} has no "manifests" list`);
      for (const child of value.manifests) await visit(child, label, depth + 1);
    } else if (isManifest(mediaType)) {
      if (!value.config || !Array.isArray(value.layers)) {
        throw archiveError(reader.path, `${label} has no config or no layers list`);
      }
      const config = descriptorOf(value.config);
      const layers = value.layers.map(descriptorOf);
      // docker save on the containerd store also writes the manifest of a platform that was not pulled
      // when it has it, without its config and layers: that platform is missing too.
      const absent = [config, ...layers].filter(
        (blob, i) =>
          typeof blob.digest === "string" &&
          !reader.blobEntry(blob.digest) &&
          !(i > 0 && blob.urls !== undefined && isForeign(blob, reader, label)),
      );
      if (depth > 0 && absent.length > 0) {
        for (const blob of [config, ...layers]) reader.checkDescriptor(blob, label);
        const attestation = descriptor.annotations?.[REFERENCE_TYPE_ANNOTATION] === ATTESTATION_MANIFEST;
        missing.push({
          descriptor: descriptorOf({ ...descriptor, mediaType }),
          ...(attestation ? {} : { platform: formatPlatform(descriptor.platform) }),
          attestation,
        });
        return;
      }
      for (const blob of [config, ...layers]) {
        if (typeof blob.mediaType !== "string" || blob.mediaType === "") {
          throw archiveError(reader.path, `${label} gives ${blob.digest} no media type`);
        }
        if (blob !== config && isForeign(blob, reader, label)) {
          foreign.set(blob.digest, blob);
          continue;
        }
        if (isNonDistributable(blob.mediaType) && !reader.blobEntry(blob.digest)) {
          throw archiveError(
            reader.path,
            `${label} has the non-distributable layer ${blob.digest} without URLs: a registry accepts the manifest only with that blob, and the tarball does not hold it`,
          );
        }
        reader.requireBlob(blob, label);
        blobs.set(blob.digest, blob);
      }
      const attestation = descriptor.annotations?.[REFERENCE_TYPE_ANNOTATION] === ATTESTATION_MANIFEST;
      let platform = attestation ? undefined : formatPlatform(descriptor.platform);
      if (!attestation && !platform) {
        // Single-platform archives often give no platform in index.json: the config says it.
        // Its top-level fields only: labels below may differ only in case.
        const { value: configDocument } = await reader.readJsonBlob<ConfigDocument>(config, label, 1);
        platform = formatPlatform(configDocument as Partial<Platform>);
      }
      manifests.push({
        descriptor: descriptorOf({ ...descriptor, mediaType }),
        platform,
        attestation,
        config,
        layers,
      });
    } else {
      throw archiveError(
        reader.path,
        `${where} refers to ${descriptor.digest} of media type ${mediaType}, which is neither an image manifest nor an index`,
        "only container images can be read; rebuild the tarball with buildx or docker",
      );
    }
    // Children first: a registry accepts an index only once the manifests it lists are there.
    pushManifests.push({ descriptor: descriptorOf({ ...descriptor, mediaType }), bytes });
  };

  await visit(top, "index.json", 0);

  const platforms = [
    ...new Set(manifests.flatMap((m) => (m.attestation || !m.platform ? [] : [m.platform]))),
  ];
  const size =
    pushManifests.reduce((sum, m) => sum + m.descriptor.size, 0) +
    [...blobs.values()].reduce((sum, b) => sum + b.size, 0);
  const topDescriptor = pushManifests[pushManifests.length - 1]?.descriptor ?? top;
  // A digest that one manifest lists as a regular layer is uploaded, whatever another says of it.
  for (const digest of blobs.keys()) foreign.delete(digest);
  return {
    descriptor: topDescriptor,
    manifests,
    missing,
    plan: { blobs: [...blobs.values()], manifests: pushManifests, foreign: [...foreign.values()] },
    platforms,
    size,
  };
}
