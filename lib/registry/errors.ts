/**
 * Errors of the registry client. A registry's refusal shows the registry's own words (the `errors[]` of
 * its JSON body, distribution spec "Error Codes"), its kind from the status; a blob whose bytes do not
 * match its digest is a `digest-mismatch`: the source is corrupted, retrying cannot help.
 */
import { printableValue } from "../printable.js";
import { ProtocolError, type ProtocolErrorKind } from "../protocol-error.js";

interface RegistryErrorDetail {
  code?: string;
  message?: string;
}

/** The `errors[]` of a registry's JSON error body; empty when the body is something else. */
export function parseErrorBody(text: string): RegistryErrorDetail[] {
  try {
    const body = JSON.parse(text) as { errors?: unknown };
    if (!Array.isArray(body.errors)) return [];
    // The registry's words go into one line of an error: on one line, whatever they hold.
    return body.errors.map((e: { code?: unknown; message?: unknown }) => ({
      code: typeof e?.code === "string" ? printableValue(e.code) : undefined,
      message: typeof e?.message === "string" ? printableValue(e.message) : undefined,
    }));
  } catch {
    return [];
  }
}

/** The kind of a refusal with this status. */
function kindOfStatus(status: number): ProtocolErrorKind {
  if (status === 401) return "unauthorized";
  if (status === 403) return "denied";
  if (status === 404) return "not-found";
  if (status === 413) return "too-large";
  return "rejected";
}

export class RegistryHttpError extends ProtocolError {
  readonly status: number;
  readonly details: RegistryErrorDetail[];
  /** A 429's or 503's Retry-After, in milliseconds. */
  readonly retryAfterMs?: number;
  /** Set when trying again may help although the status alone says otherwise (a 401 after a token refresh). */
  readonly retryable?: boolean;
  /** The registry whose login was refused, when the refusal was of the login: the modes add a hint. */
  readonly login?: string;
  constructor(
    operation: string,
    status: number,
    details: RegistryErrorDetail[],
    options: { retryAfterMs?: number; hint?: string; retryable?: boolean; login?: string } = {},
  ) {
    const said = details
      .map((d) => [d.code, d.message].filter(Boolean).join(": "))
      .filter(Boolean)
      .join("; ");
    super(
      options.login ? "unauthorized" : kindOfStatus(status),
      `${operation}: the registry answered HTTP ${status}${said ? ` (${said})` : ""}${options.hint ? `: ${options.hint}` : ""}`,
    );
    this.name = "RegistryHttpError";
    this.status = status;
    this.details = details;
    this.retryAfterMs = options.retryAfterMs;
    this.retryable = options.retryable;
    if (options.login !== undefined) this.login = options.login;
  }
}

/** The bytes read for a blob do not hash to its digest, or are not as many as its size. */
export class BlobVerificationError extends ProtocolError {
  readonly digest: string;
  constructor(digest: string, problem: string) {
    super(
      "digest-mismatch",
      `blob ${digest}: ${problem}; the image source is corrupted: rebuild the tarball`,
    );
    this.name = "BlobVerificationError";
    this.digest = digest;
  }
}

/**
 * The registry no longer has an upload session, or will not go on with it: 404 (the spec: "the client MUST
 * restart the upload process"), 416 with no usable offset, or distribution's BLOB_UPLOAD_INVALID /
 * BLOB_UPLOAD_UNKNOWN, which it answers for a session whose last request broke off half-way (the bytes it
 * kept no longer match the state in the Location). A new session is the only way on.
 */
export function isLostUploadSession(error: unknown): boolean {
  if (!(error instanceof RegistryHttpError)) return false;
  if (error.status === 404 || error.status === 416) return true;
  return (
    error.status === 400 &&
    error.details.some((d) => d.code === "BLOB_UPLOAD_INVALID" || d.code === "BLOB_UPLOAD_UNKNOWN")
  );
}
