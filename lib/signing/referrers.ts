/**
 * The OCI 1.1 form of a cosign signature, beside the `.sig` tag: a manifest whose `subject` is the
 * signed image, found through the registry's referrers API (OCI distribution 1.1, "Listing Referrers").
 * Its shape is cosign's (pkg/oci/remote WriteSignaturesExperimentalOCI, v2.5; read by `cosign verify
 * --experimental-oci11`): the signature layer, a config whose media type is the artifact type
 * application/vnd.dev.cosign.artifact.sig.v1+json, and the image's descriptor as subject, written by
 * digest. Written only where the registry lists referrers: on a registry before OCI 1.1 a manifest with
 * a subject would be stored but found by nothing (the spec's fallback tag is what the `.sig` tag is for).
 */
import { Readable } from "node:stream";
import { digestOf } from "../reference/digest.js";
import { OCI_MANIFEST } from "../reference/media-types.js";
import type { RepositoryClient } from "../registry/repository.js";
import {
  type LayerDescriptor,
  parseSignatureImage,
  type SignatureLayer,
  serializeSignatureImage,
} from "./signature-image.js";

const COSIGN_SIGNATURE_ARTIFACT_TYPE = "application/vnd.dev.cosign.artifact.sig.v1+json";

interface Referrer {
  /** The referrer manifest's digest. */
  digest: string;
  /** False when a referrer with the same signature by the same key was there already. */
  added: boolean;
}

async function putBlob(repository: RepositoryClient, bytes: Buffer, digest: string, signal?: AbortSignal) {
  if (await repository.blobExists(digest, signal)) return;
  await repository.uploadBlob({ digest, size: bytes.length }, () => Readable.from([bytes]), { signal });
}

/** The referrer manifest for `layer` about `subject`. Pure. */
function referrerManifest(
  layer: LayerDescriptor,
  subject: { mediaType: string; size: number; digest: string },
): { manifest: Buffer; config: Buffer; configDigest: string } {
  const { config, configDigest } = serializeSignatureImage({
    mediaType: OCI_MANIFEST,
    configMediaType: COSIGN_SIGNATURE_ARTIFACT_TYPE,
    layers: [layer],
  });
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: { mediaType: COSIGN_SIGNATURE_ARTIFACT_TYPE, size: config.length, digest: configDigest },
      layers: [
        {
          mediaType: layer.mediaType,
          size: layer.size,
          digest: layer.digest,
          ...(layer.annotations ? { annotations: layer.annotations } : {}),
        },
      ],
      subject,
    }),
    "utf8",
  );
  return { manifest, config, configDigest };
}

/**
 * Writes the signature `layer` of `digest` as a referrer, unless the registry has no referrers API
 * (undefined) or a referrer there already holds the same signature (`isDuplicate`).
 */
export async function attachReferrer(options: {
  repository: RepositoryClient;
  digest: string;
  layer: SignatureLayer;
  isDuplicate: (existing: LayerDescriptor) => boolean;
  signal?: AbortSignal;
}): Promise<Referrer | undefined> {
  const { repository, digest, layer, signal } = options;
  const referrers = await repository.readReferrers(digest, COSIGN_SIGNATURE_ARTIFACT_TYPE, signal);
  if (!referrers) return undefined;
  for (const referrer of referrers) {
    // A registry that does not filter lists every referrer: only cosign signatures are looked into.
    if (referrer.artifactType !== undefined && referrer.artifactType !== COSIGN_SIGNATURE_ARTIFACT_TYPE)
      continue;
    const existing = await repository.readManifest(referrer.digest, signal);
    const image = existing && parseSignatureImage(existing.text);
    if (image?.configMediaType === COSIGN_SIGNATURE_ARTIFACT_TYPE && image.layers.some(options.isDuplicate)) {
      return { digest: referrer.digest, added: false };
    }
  }
  const subjectManifest = await repository.readManifest(digest, signal);
  // The subject is described by the bytes the registry serves, which must be the digest's.
  if (!subjectManifest || digestOf(Buffer.from(subjectManifest.text, "utf8")) !== digest) return undefined;
  const subject = {
    mediaType: subjectManifest.mediaType?.split(";")[0]?.trim() || OCI_MANIFEST,
    size: Buffer.byteLength(subjectManifest.text, "utf8"),
    digest,
  };
  const { bytes, ...descriptor } = layer;
  const { manifest, config, configDigest } = referrerManifest(descriptor, subject);
  await putBlob(repository, bytes, layer.digest, signal);
  await putBlob(repository, config, configDigest, signal);
  const manifestDigest = digestOf(manifest);
  await repository.putManifest(manifestDigest, OCI_MANIFEST, manifest, signal);
  return { digest: manifestDigest, added: true };
}
