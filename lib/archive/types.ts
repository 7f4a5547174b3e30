import type { Readable } from "node:stream";

/** An OCI content descriptor (image-spec descriptor.md). */
export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  platform?: Platform;
  annotations?: Record<string, string>;
  /** Where a non-distributable layer can be fetched from (descriptor.md "urls"). */
  urls?: string[];
}

export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
}

/**
 * - `docker`: what `buildx --output type=docker` writes: an OCI layout (index.json, blobs/) and a
 *   docker-archive manifest.json side by side.
 * - `oci`: an OCI image layout only (`type=oci`), possibly with a multi-platform index.
 * - `docker-save`: the classic store's `docker save`: manifest.json, a config JSON and uncompressed layer tars.
 */
export type ArchiveFormat = "docker" | "oci" | "docker-save";

/** One image in a tarball, as a registry would serve it. */
export interface ArchiveImage {
  /** Names/tags recorded in the tarball (may be empty). */
  names: string[];
  /** The top manifest or index: its digest is what the registry serves for every tag pushed. */
  descriptor: Descriptor;
  /** `os/arch[/variant]` of each runnable image (attestation manifests excluded). */
  platforms: string[];
  /** Bytes of every blob and manifest of the image that the tarball holds (foreign layers are not counted). */
  size: number;
}

/** What pushing one image moves, in order. */
export interface PushPlan {
  /** Layers and configs, each once. */
  blobs: Descriptor[];
  /** Manifests with their exact bytes: children before the index; the last one is the image's top. */
  manifests: { descriptor: Descriptor; bytes: Buffer }[];
  /**
   * Foreign layers (non-distributable, with URLs), each once: not uploaded, as docker push and containerd
   * do not; the registry serves the manifest that refers to them by URL. Absent: none.
   */
  foreign?: Descriptor[];
}

/** A tarball opened for reading: indexed once, then read by byte ranges, never extracted. */
export interface ImageArchive {
  path: string;
  format: ArchiveFormat;
  images: ArchiveImage[];
  /** The blobs and manifests of one image of this archive. */
  plan(image: ArchiveImage): Promise<PushPlan>;
  /** A blob's bytes, streamed from its byte range of the tarball. */
  openBlob(digest: string): Readable;
}

/** One manifest of an image, as `inspect` shows it: a platform's config and layers (or an attestation). */
export interface ArchiveManifest {
  descriptor: Descriptor;
  /** `os/arch[/variant]`, from the index entry or else the config; undefined when neither says. */
  platform?: string;
  /** A BuildKit attestation manifest (provenance/SBOM, platform unknown/unknown): pushed, not runnable. */
  attestation: boolean;
  config: Descriptor;
  layers: Descriptor[];
}

/** An image as {@link OpenedArchive} gives it: what {@link ArchiveImage} says, plus its manifests. */
export interface OpenedImage extends ArchiveImage {
  /** Every image manifest under the top descriptor (for an index: its children, attestations included). */
  manifests: ArchiveManifest[];
}

/** What `openArchive` returns: an {@link ImageArchive} whose images carry their manifests. */
export interface OpenedArchive extends ImageArchive {
  images: OpenedImage[];
}
