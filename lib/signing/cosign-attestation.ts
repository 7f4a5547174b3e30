/**
 * A cosign attestation of an image digest, as one layer of the `.att` image: the in-toto statement
 * (in-toto.ts) in a DSSE envelope signed with the key (dsse.ts), the layer annotated with the predicate
 * type and an empty signature annotation, as cosign attest writes it. Pure.
 */
import {
  DSSE_ENVELOPE_MEDIA_TYPE,
  IN_TOTO_PAYLOAD_TYPE,
  parseEnvelope,
  preAuthenticationEncoding,
  signedEnvelope,
} from "./dsse.js";
import { inTotoStatement } from "./in-toto.js";
import {
  type LayerDescriptor,
  PREDICATE_TYPE_ANNOTATION,
  SIGNATURE_ANNOTATION,
  type SignatureLayer,
  signatureLayer,
} from "./signature-image.js";
import type { SigningKey } from "./signing-key.js";

interface AttestationLayer extends SignatureLayer {
  /** The signed statement, to tell a layer that holds the same one. */
  statement: Buffer;
}

export function cosignAttestationLayer(
  key: SigningKey,
  options: { predicateType: string; predicate: unknown; subjectName: string; digest: string },
): AttestationLayer {
  const statement = inTotoStatement(options);
  const envelope = signedEnvelope(IN_TOTO_PAYLOAD_TYPE, statement, (data) => key.sign(data));
  const layer = signatureLayer(DSSE_ENVELOPE_MEDIA_TYPE, envelope, {
    [SIGNATURE_ANNOTATION]: "",
    [PREDICATE_TYPE_ANNOTATION]: options.predicateType,
  });
  return { ...layer, statement };
}

/**
 * Whether `existing` may be the same attestation as `layer` by its descriptor alone: same media type
 * and predicate type, and a size within a few bytes (a DER ECDSA signature is 70 to 72 bytes, base64).
 * Only such layers are read back.
 */
export function mayBeSameAttestation(layer: AttestationLayer, existing: LayerDescriptor): boolean {
  return (
    existing.mediaType === layer.mediaType &&
    existing.annotations?.[PREDICATE_TYPE_ANNOTATION] === layer.annotations?.[PREDICATE_TYPE_ANNOTATION] &&
    Math.abs(existing.size - layer.size) <= 8
  );
}

/** Whether `bytes` (an existing layer's) is an envelope of the same statement, signed by `key`. */
export function isSameAttestation(key: SigningKey, layer: AttestationLayer, bytes: Buffer): boolean {
  const envelope = parseEnvelope(bytes);
  if (!envelope || envelope.payloadType !== IN_TOTO_PAYLOAD_TYPE) return false;
  const body = Buffer.from(envelope.payload, "base64");
  if (!body.equals(layer.statement)) return false;
  const signed = preAuthenticationEncoding(envelope.payloadType, body);
  return envelope.signatures.some((s) => key.verify(signed, Buffer.from(s.sig, "base64")));
}
