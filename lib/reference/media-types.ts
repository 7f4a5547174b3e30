/**
 * Media types of images, OCI and Docker, as archives hold them and registries serve them:
 * https://github.com/opencontainers/image-spec/blob/main/media-types.md and
 * https://distribution.github.io/distribution/spec/manifest-v2-2/
 */
export const OCI_INDEX = "application/vnd.oci.image.index.v1+json";
export const OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
const DOCKER_MANIFEST_LIST = "application/vnd.docker.distribution.manifest.list.v2+json";
export const DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json";
export const DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json";
export const OCI_CONFIG = "application/vnd.oci.image.config.v1+json";
/** The manifest media types the registry client asks for (and so can compare digests of). */
export const MANIFEST_MEDIA_TYPES: readonly string[] = [
  OCI_INDEX,
  OCI_MANIFEST,
  DOCKER_MANIFEST_LIST,
  DOCKER_MANIFEST,
];
/** An uncompressed layer, as the classic store's `docker save` holds them. */
export const DOCKER_LAYER_TAR = "application/vnd.docker.image.rootfs.diff.tar";

/**
 * Non-distributable ("foreign") layers: a registry may not hold them, the manifest lists URLs to fetch
 * them from (Windows base layers). docker push and containerd skip uploading them.
 * https://github.com/opencontainers/image-spec/blob/main/layer.md#non-distributable-layers
 */
const NON_DISTRIBUTABLE_LAYERS: readonly string[] = [
  "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
  "application/vnd.oci.image.layer.nondistributable.v1.tar",
  "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
  "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd",
];

export function isNonDistributable(mediaType: string): boolean {
  return NON_DISTRIBUTABLE_LAYERS.includes(mediaType);
}

/**
 * A foreign layer: non-distributable and with URLs to fetch it from. It is not uploaded. Without URLs a
 * registry accepts the manifest only when it holds the blob (distribution checks that it exists), so
 * such a layer is pushed like any other.
 */
export function isForeignLayer(layer: { mediaType: string; urls?: string[] }): boolean {
  return isNonDistributable(layer.mediaType) && Array.isArray(layer.urls) && layer.urls.length > 0;
}

export function isIndex(mediaType: string): boolean {
  return mediaType === OCI_INDEX || mediaType === DOCKER_MANIFEST_LIST;
}

export function isManifest(mediaType: string): boolean {
  return mediaType === OCI_MANIFEST || mediaType === DOCKER_MANIFEST;
}

/** BuildKit marks the manifests that carry provenance/SBOM with this annotation (platform unknown/unknown). */
export const REFERENCE_TYPE_ANNOTATION = "vnd.docker.reference.type";
export const ATTESTATION_MANIFEST = "attestation-manifest";

/** containerd's full image name (`docker.io/x/app:1`) and the OCI layout's reference name (`1` or a full ref). */
export const CONTAINERD_IMAGE_NAME = "io.containerd.image.name";
export const OCI_REF_NAME = "org.opencontainers.image.ref.name";
