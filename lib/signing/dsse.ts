/**
 * DSSE, the envelope of a signed attestation (https://github.com/secure-systems-lab/dsse/blob/master/
 * envelope.md and protocol.md): the signature is over the pre-authentication encoding
 *
 *   PAE(type, body) = "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body
 *
 * (LEN in ASCII decimal bytes), never over the body alone, so that a signature cannot be replayed for
 * another payload type. The envelope is JSON with the body and signature in standard base64; cosign
 * writes `keyid` empty for a key. Pure.
 */

export const DSSE_ENVELOPE_MEDIA_TYPE = "application/vnd.dsse.envelope.v1+json";
export const IN_TOTO_PAYLOAD_TYPE = "application/vnd.in-toto+json";

interface DsseEnvelope {
  payloadType: string;
  payload: string;
  signatures: { keyid: string; sig: string }[];
}

/** The bytes a DSSE signature covers. */
export function preAuthenticationEncoding(payloadType: string, body: Buffer): Buffer {
  const type = Buffer.from(payloadType, "utf8");
  return Buffer.concat([
    Buffer.from(`DSSEv1 ${type.length} `, "utf8"),
    type,
    Buffer.from(` ${body.length} `, "utf8"),
    body,
  ]);
}

/** The envelope of `body`, signed by `sign` over its PAE, as JSON bytes (field order as cosign's). */
export function signedEnvelope(payloadType: string, body: Buffer, sign: (data: Buffer) => Buffer): Buffer {
  const envelope: DsseEnvelope = {
    payloadType,
    payload: body.toString("base64"),
    signatures: [{ keyid: "", sig: sign(preAuthenticationEncoding(payloadType, body)).toString("base64") }],
  };
  return Buffer.from(JSON.stringify(envelope), "utf8");
}

/** The envelope in `bytes`, or undefined when they are not one. */
export function parseEnvelope(bytes: Buffer): DsseEnvelope | undefined {
  try {
    const value = JSON.parse(bytes.toString("utf8")) as Partial<DsseEnvelope>;
    if (typeof value.payloadType !== "string" || typeof value.payload !== "string") return undefined;
    if (!Array.isArray(value.signatures)) return undefined;
    const signatures = value.signatures.filter(
      (s): s is { keyid: string; sig: string } => typeof s?.sig === "string",
    );
    return { payloadType: value.payloadType, payload: value.payload, signatures };
  } catch {
    return undefined;
  }
}
