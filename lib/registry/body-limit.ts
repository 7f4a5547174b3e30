/**
 * How much of a registry's answer is read, by kind of answer. Every body comes from a server that may be
 * broken or hostile: read without a bound, a token response of 2 GB took 6.2 GB of memory (issue 11.9).
 * Over its limit a body is not read further: the request is aborted and the push fails naming the limit.
 */
import type { Readable } from "node:stream";
import { ProtocolError } from "../protocol-error.js";

const KiB = 1024;
const MiB = 1024 * KiB;

/** The limits, by kind of answer. */
export const BODY_LIMITS = {
  /** `GET /v2/`: an empty JSON object, or an error. */
  ping: 64 * KiB,
  /** A registry's error (`{"errors": [...]}`, distribution spec "Error Codes") or any answer not used. */
  error: 64 * KiB,
  /** A token server's JSON (token spec): a JWT of a few KiB, sometimes with a refresh token. */
  token: 1 * MiB,
  /** A manifest or index: 4 MiB, the archive reader's bound for a tarball's JSON files (MAX_JSON_SIZE). */
  manifest: 4 * MiB,
  /** A tag list. */
  tags: 4 * MiB,
  /**
   * A layer of a cosign signature or attestation image, read back to see whether it is already there:
   * a payload of a few hundred bytes, or an envelope of an attested report (at most 32 MiB, base64).
   */
  attachment: 48 * MiB,
} as const;

export type BodyKind = keyof typeof BODY_LIMITS;

const DESCRIPTIONS: Record<BodyKind, string> = {
  ping: "a /v2/ answer",
  error: "an error or status answer",
  token: "a token response",
  manifest: "a manifest",
  tags: "a tag list",
  attachment: "a signature or attestation layer",
};

/** Sizes as the limits are written: 64 KiB, 1 MiB. */
function formatLimit(bytes: number): string {
  return bytes >= MiB && bytes % MiB === 0 ? `${bytes / MiB} MiB` : `${Math.round(bytes / KiB)} KiB`;
}

/** An answer over the limit for its kind (`too-large`). */
export function bodyTooLarge(what: string, kind: BodyKind): ProtocolError {
  return new ProtocolError(
    "too-large",
    `${what}: the answer is larger than ${formatLimit(BODY_LIMITS[kind])}, the limit for ${DESCRIPTIONS[kind]}; the request was aborted and the rest of the answer not read (a broken or hostile server, or a proxy answering in its place)`,
  );
}

/**
 * Reads `body` whole if it is at most `limit` bytes; otherwise returns undefined as soon as the limit is
 * passed, leaving the stream to the caller to destroy. A declared Content-Length over the limit is
 * refused before any byte is read.
 */
export async function readWithin(
  body: Readable,
  limit: number,
  declaredLength?: string,
): Promise<Buffer | undefined> {
  if (declaredLength !== undefined && /^\d+$/.test(declaredLength) && Number(declaredLength) > limit) {
    return undefined;
  }
  const parts: Buffer[] = [];
  let size = 0;
  for await (const part of body) {
    size += (part as Buffer).length;
    if (size > limit) return undefined;
    parts.push(part as Buffer);
  }
  return Buffer.concat(parts, size);
}
