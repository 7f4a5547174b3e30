/**
 * A cosign signature of an image digest, as one layer of the `.sig` image: the simple signing payload
 * (simple-signing.ts) signed with the key, the signature in the layer's annotation. Pure.
 */
import type { LayerDescriptor, SignatureLayer } from "./signature-image.js";
import { SIGNATURE_ANNOTATION, signatureLayer } from "./signature-image.js";
import type { SigningKey } from "./signing-key.js";
import { SIMPLE_SIGNING_MEDIA_TYPE, simpleSigningPayload } from "./simple-signing.js";

/** The layer that signs `digest` of `repository` (named as cosign names it) with `key`. */
export function cosignSignatureLayer(key: SigningKey, repository: string, digest: string): SignatureLayer {
  const payload = simpleSigningPayload(repository, digest);
  return signatureLayer(SIMPLE_SIGNING_MEDIA_TYPE, payload, {
    [SIGNATURE_ANNOTATION]: key.sign(payload).toString("base64"),
  });
}

/**
 * Whether `existing` is already a signature by `key` of the same payload as `layer` (cosign's
 * DupeDetector, pkg/cosign/remote: same payload digest and media type, a signature the key verifies).
 * ECDSA signatures differ each time, so the signature is verified rather than compared.
 */
export function isSameSignature(key: SigningKey, layer: SignatureLayer, existing: LayerDescriptor): boolean {
  if (existing.mediaType !== layer.mediaType || existing.digest !== layer.digest) return false;
  const signature = existing.annotations?.[SIGNATURE_ANNOTATION];
  if (!signature) return false;
  return key.verify(layer.bytes, Buffer.from(signature, "base64"));
}
