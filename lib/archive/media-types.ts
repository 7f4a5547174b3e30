/**
 * Media types an image tarball holds, OCI and Docker:
 * https://github.com/opencontainers/image-spec/blob/main/media-types.md and
 * https://distribution.github.io/distribution/spec/manifest-v2-2/
 */
export const OCI_INDEX = "application/vnd.oci.image.index.v1+json";
export const OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
export const DOCKER_MANIFEST_LIST = "application/vnd.docker.distribution.manifest.list.v2+json";
export const DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json";
export const DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json";
/** An uncompressed layer, as the classic store's `docker save` holds them. */
export const DOCKER_LAYER_TAR = "application/vnd.docker.image.rootfs.diff.tar";

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
