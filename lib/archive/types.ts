import type { Readable } from "node:stream";
import type { Compression } from "./compression.js";

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

/** Where an archive's bytes are read from. */
export interface ArchiveSource {
  /** A tar file (the given one, or a temporary plain copy), or an OCI layout folder. */
  kind: "tar" | "folder";
  /** The plain tar file or the folder that is read (a temporary file for compressed or piped input). */
  file: string;
  /** The compression of the input; the tar at `file` is plain. */
  compression?: Compression;
  /** Read from standard input (`-`). */
  fromStdin: boolean;
}

/** A tarball opened for reading: indexed once, then read by byte ranges, never extracted. */
export interface ImageArchive {
  /** How the archive is named in messages: the path the user gave, or "standard input". */
  path: string;
  format: ArchiveFormat;
  /** What the layout says of the tool that wrote it, for people (producer.ts); generic when it cannot tell. */
  producer: string;
  input: ArchiveSource;
  images: ArchiveImage[];
  /** The blobs and manifests of one image of this archive. */
  plan(image: ArchiveImage): Promise<PushPlan>;
  /** A blob's bytes, streamed from its byte range of the tarball. */
  openBlob(digest: string): Readable;
  /** Removes what opening made (the temporary tar of compressed or piped input). */
  close(): Promise<void>;
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

/** A manifest that an index of the archive lists but the archive does not hold. */
export interface MissingManifest {
  descriptor: Descriptor;
  /** `os/arch[/variant]` as the index entry gives it (undefined for attestations, and when it gives none). */
  platform?: string;
  attestation: boolean;
}

/** An image as {@link OpenedArchive} gives it: what {@link ArchiveImage} says, plus its manifests. */
export interface OpenedImage extends ArchiveImage {
  /** Every image manifest under the top descriptor that the archive holds (attestations included). */
  manifests: ArchiveManifest[];
  /**
   * Manifests its index lists that the archive does not hold: a `docker save` of a multi-platform image
   * pulled for one platform. Such an image cannot be pushed whole; a platform that is there can.
   */
  missing: MissingManifest[];
}

/** What `openArchive` returns: an {@link ImageArchive} whose images carry their manifests. */
export interface OpenedArchive extends ImageArchive {
  images: OpenedImage[];
  /**
   * One platform's manifest of `image` as an image of its own (its digest is the manifest's), whose
   * plan pushes that manifest, its config and its layers only.
   */
  manifestImage(image: OpenedImage, manifest: ArchiveManifest): OpenedImage;
}
