/**
 * Errors of the registry client. A registry's refusal is a {@link StepFailure} (exit 1) showing the
 * registry's own words (the `errors[]` of its JSON body, distribution spec "Error Codes"); a blob whose
 * bytes do not match its digest is bad input (exit 2): the source is corrupted, retrying cannot help.
 */
import { StepFailure, UsageError } from "../errors.js";
import { printableValue } from "../printable.js";

export interface RegistryErrorDetail {
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

export class RegistryHttpError extends StepFailure {
  readonly status: number;
  readonly details: RegistryErrorDetail[];
  /** A 429's or 503's Retry-After, in milliseconds. */
  readonly retryAfterMs?: number;
  /** Set when trying again may help although the status alone says otherwise (a 401 after a token refresh). */
  readonly retryable?: boolean;
  constructor(
    operation: string,
    status: number,
    details: RegistryErrorDetail[],
    options: { retryAfterMs?: number; hint?: string; retryable?: boolean } = {},
  ) {
    const said = details
      .map((d) => [d.code, d.message].filter(Boolean).join(": "))
      .filter(Boolean)
      .join("; ");
    super(
      `${operation}: the registry answered HTTP ${status}${said ? ` (${said})` : ""}${options.hint ? `: ${options.hint}` : ""}`,
    );
    this.name = "RegistryHttpError";
    this.status = status;
    this.details = details;
    this.retryAfterMs = options.retryAfterMs;
    this.retryable = options.retryable;
  }
}

/** The bytes read for a blob do not hash to its digest, or are not as many as its size. */
export class BlobVerificationError extends UsageError {
  readonly digest: string;
  constructor(digest: string, problem: string) {
    super(`blob ${digest}: ${problem}; the image source is corrupted: rebuild the tarball`);
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
