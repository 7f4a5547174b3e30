/**
 * `buildx-step inspect TAR`: the images in a tarball as a registry would serve them (names, the digest
 * each tag will resolve to, media type, platforms, size, layers). Reads tar headers and JSON only.
 */
import { isForeignLayer } from "../archive/media-types.js";
import { openArchive } from "../archive/open.js";
import type { ArchiveFormat, ArchiveManifest, Descriptor, OpenedArchive } from "../archive/types.js";
import { UsageError } from "../errors.js";
import type { Logger } from "../log.js";
import { formatBytes } from "../progress/format.js";

const FORMAT_DESCRIPTIONS: Record<ArchiveFormat, string> = {
  docker: "buildx --output type=docker (docker-archive + OCI layout)",
  oci: "OCI image layout (buildx --output type=oci)",
  "docker-save": "docker save (classic image store)",
};

interface JsonDescriptor {
  digest: string;
  size: number;
  mediaType: string;
  /** Foreign layers only: where pullers fetch them; they are not in the push. */
  urls?: string[];
  foreign?: true;
}

/** The JSON shape of `inspect --json` (issue 5): `format` and `images`, each with a `manifests` detail. */
export interface InspectJson {
  format: ArchiveFormat;
  images: {
    names: string[];
    digest: string;
    mediaType: string;
    platforms: string[];
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

function jsonDescriptor(d: Descriptor): JsonDescriptor {
  const foreign = isForeignLayer(d) ? { urls: d.urls, foreign: true as const } : {};
  return { digest: d.digest, size: d.size, mediaType: d.mediaType, ...foreign };
}

export function inspectJson(archive: OpenedArchive): InspectJson {
  return {
    format: archive.format,
    images: archive.images.map((image) => ({
      names: image.names,
      digest: image.descriptor.digest,
      mediaType: image.descriptor.mediaType,
      platforms: image.platforms,
      size: image.size,
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
  const lines = [
    `${archive.path}: ${FORMAT_DESCRIPTIONS[archive.format]}, ${archive.images.length} image(s)`,
  ];
  for (const image of archive.images) {
    lines.push(
      "",
      `image ${image.names.length ? image.names.join(", ") : "(no name recorded)"}`,
      `  digest      ${image.descriptor.digest}`,
      `  media type  ${image.descriptor.mediaType}`,
      `  platforms   ${image.platforms.length ? image.platforms.join(", ") : "(unknown)"}`,
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
  options.logger.debug(`indexed ${tarball}: ${archive.format}, ${archive.images.length} image(s)`);
  process.stdout.write(
    options.json ? `${JSON.stringify(inspectJson(archive), null, 2)}\n` : inspectText(archive),
  );
  return 0;
}
