/**
 * `buildx-step inspect TAR`: the images in a tarball as a registry would serve them (names, the digest
 * each tag will resolve to, media type, platforms, size, layers). Reads tar headers and JSON only.
 */

import { COMPRESSION_LABELS } from "../archive/compression.js";
import { openArchive } from "../archive/open.js";
import type {
  ArchiveFormat,
  ArchiveManifest,
  ArchiveSource,
  Descriptor,
  OpenedArchive,
  OpenedImage,
} from "../archive/types.js";
import { UsageError } from "../errors.js";
import type { Logger } from "../log.js";
import { formatBytes } from "../progress/format.js";
import { isForeignLayer } from "../reference/media-types.js";

interface JsonDescriptor {
  digest: string;
  size: number;
  mediaType: string;
  /** Foreign layers only: where pullers fetch them; they are not in the push. */
  urls?: string[];
  foreign?: true;
}

/** The JSON shape of `inspect --json` (issue 5): `format` and `images`, each with a `manifests` detail. */
interface InspectJson {
  format: ArchiveFormat;
  /** Who wrote it, as far as the layout tells. */
  producer: string;
  /** `tar` or `folder`, the compression of a compressed file, and whether it came through standard input. */
  input: { kind: ArchiveSource["kind"]; compression: string | null; stdin: boolean };
  images: {
    names: string[];
    digest: string;
    mediaType: string;
    /** Platforms the file holds. */
    platforms: string[];
    /** False when the index lists manifests the file does not hold (a partial save): push one platform. */
    complete: boolean;
    /** Platforms the index lists that the file does not hold. */
    missingPlatforms: string[];
    /** Every manifest the index lists that the file does not hold (attestations included). */
    missing: { digest: string; mediaType: string; platform: string | null; attestation: boolean }[];
    size: number;
    manifests: {
      digest: string;
      mediaType: string;
      size: number;
      platform: string | null;
      attestation: boolean;
      config: JsonDescriptor;
      layers: JsonDescriptor[];
    }[];
  }[];
}

/** Platforms an index lists whose manifests the file does not hold. */
function missingPlatforms(image: OpenedImage): string[] {
  return [...new Set(image.missing.flatMap((m) => (m.attestation ? [] : [m.platform ?? "unknown"])))];
}

/** `gzip-compressed docker save (...) tarball`, `OCI image layout folder`, and where it was read from. */
function describeInput(archive: OpenedArchive): string {
  const { input } = archive;
  const compression = input.compression ? `${COMPRESSION_LABELS[input.compression]} ` : "";
  const container = input.kind === "folder" ? "folder" : "tarball";
  return `${compression}${container}, ${archive.producer}`;
}

function jsonDescriptor(d: Descriptor): JsonDescriptor {
  const foreign = isForeignLayer(d) ? { urls: d.urls, foreign: true as const } : {};
  return { digest: d.digest, size: d.size, mediaType: d.mediaType, ...foreign };
}

export function inspectJson(archive: OpenedArchive): InspectJson {
  return {
    format: archive.format,
    producer: archive.producer,
    input: {
      kind: archive.input.kind,
      compression: archive.input.compression ?? null,
      stdin: archive.input.fromStdin,
    },
    images: archive.images.map((image) => ({
      names: image.names,
      digest: image.descriptor.digest,
      mediaType: image.descriptor.mediaType,
      platforms: image.platforms,
      size: image.size,
      complete: image.missing.length === 0,
      missingPlatforms: missingPlatforms(image),
      missing: image.missing.map((m) => ({
        digest: m.descriptor.digest,
        mediaType: m.descriptor.mediaType,
        platform: m.platform ?? null,
        attestation: m.attestation,
      })),
      manifests: image.manifests.map((m) => ({
        digest: m.descriptor.digest,
        mediaType: m.descriptor.mediaType,
        size: m.descriptor.size,
        platform: m.platform ?? null,
        attestation: m.attestation,
        config: jsonDescriptor(m.config),
        layers: m.layers.map(jsonDescriptor),
      })),
    })),
  };
}

function manifestLines(m: ArchiveManifest): string[] {
  const title = m.attestation
    ? `attestation ${m.descriptor.digest}${m.descriptor.annotations?.["vnd.docker.reference.digest"] ? ` (for ${m.descriptor.annotations["vnd.docker.reference.digest"]})` : ""}`
    : `${m.platform ?? "unknown platform"}  ${m.descriptor.digest}`;
  const row = (kind: string, d: Descriptor) =>
    `      ${kind.padEnd(7)} ${d.digest}  ${formatBytes(d.size).padStart(10)}  ${d.mediaType}`;
  const layerRow = (layer: Descriptor) =>
    isForeignLayer(layer)
      ? `${row("foreign", layer)}  (not uploaded: fetched from ${layer.urls?.join(" ")})`
      : row("layer", layer);
  return [`    ${title}`, row("config", m.config), ...m.layers.map(layerRow)];
}

/** The human-readable report: format, then per image its names, digest, media type, platforms, size, layers. */
export function inspectText(archive: OpenedArchive): string {
  const lines = [`${archive.path}: ${describeInput(archive)}, ${archive.images.length} image(s)`];
  for (const image of archive.images) {
    lines.push(
      "",
      `image ${image.names.length ? image.names.join(", ") : "(no name recorded)"}`,
      `  digest      ${image.descriptor.digest}`,
      `  media type  ${image.descriptor.mediaType}`,
      `  platforms   ${image.platforms.length ? image.platforms.join(", ") : "(unknown)"}`,
      ...(image.missing.length
        ? [
            `  missing     ${missingPlatforms(image).join(", ") || "(no platform)"}${image.missing.some((m) => m.attestation) ? ` and ${image.missing.filter((m) => m.attestation).length} attestation(s)` : ""}: listed by the index, not in the file (a partial save); push one platform that is there with --platform`,
          ]
        : []),
      `  size        ${formatBytes(image.size)} (${image.size} bytes)`,
      "  manifests",
      ...image.manifests.flatMap(manifestLines),
    );
  }
  return `${lines.join("\n")}\n`;
}

export async function runInspect(
  tarball: string,
  options: { json: boolean; logger: Logger },
): Promise<number> {
  if (!tarball)
    throw new UsageError("inspect needs the path of an image tarball: buildx-step inspect IMAGE.tar");
  const archive = await openArchive(tarball);
  try {
    options.logger.debug(`indexed ${tarball}: ${archive.format}, ${archive.images.length} image(s)`);
    process.stdout.write(
      options.json ? `${JSON.stringify(inspectJson(archive), null, 2)}\n` : inspectText(archive),
    );
  } finally {
    await archive.close();
  }
  return 0;
}
