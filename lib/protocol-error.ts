/**
 * A failure as the protocol code (registry client, archive reader, engine client) sees it: what went
 * wrong, as a kind, and the words that say where. Protocol code knows neither settings nor exit codes:
 * the modes add the hints that name a setting (as the user set it), and the CLI maps kinds to exit codes
 * (lib/errors.ts exitCodeOf).
 */
export type ProtocolErrorKind =
  // A registry's or the engine's answer.
  /** The login was refused (HTTP 401, or a token server's 401/403). */
  | "unauthorized"
  /** The registry wants a login, and none was given. */
  | "login-required"
  /** The request was refused for these credentials (HTTP 403). */
  | "denied"
  | "not-found"
  /** Any other refusal status. */
  | "rejected"
  /** An answer that breaks the protocol: no token, no upload Location, a redirect loop, another digest. */
  | "bad-response"
  /** The server sent the request on to a URL it may not go to (plain http after https, not http). */
  | "unsafe-url"
  /** An answer larger than the limit for its kind. */
  | "too-large"
  | "unreachable"
  /** The registry's certificate is not signed by a trusted CA (or its TLS cannot be used as set). */
  | "untrusted-certificate"
  | "timed-out"
  /** Some tags were written before the failure. */
  | "partial-push"
  /** The engine, or the registry through the engine, refused. */
  | "engine-refused"
  /** The caller asked for something that cannot be done (a push with no manifest, no tag). */
  | "bad-request"
  // The input: wrong before anything was sent.
  /** Bytes that do not hash to their digest: the image source is corrupted. */
  | "digest-mismatch"
  | "corrupt-archive"
  /** An archive different readers would read differently. */
  | "ambiguous-archive"
  /** A file that is not an image archive at all. */
  | "not-an-archive"
  | "no-such-file"
  /** The CA file given for the registry cannot be read. */
  | "unreadable-ca"
  /** The input could not be copied or read (no room, no permission). */
  | "unreadable-input"
  /** A name that cannot be what it is given as (a registry host that is not a host name). */
  | "invalid-name";

/** The kinds that mean the input is wrong: nothing was pushed, and trying again cannot help. */
export const INPUT_KINDS: ReadonlySet<ProtocolErrorKind> = new Set<ProtocolErrorKind>([
  "digest-mismatch",
  "corrupt-archive",
  "ambiguous-archive",
  "not-an-archive",
  "no-such-file",
  "unreadable-ca",
  "unreadable-input",
  "invalid-name",
]);

export class ProtocolError extends Error {
  readonly kind: ProtocolErrorKind;
  constructor(kind: ProtocolErrorKind, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "ProtocolError";
    this.kind = kind;
  }
}

/** Whether `error` is a protocol failure of `kind`. */
export function isProtocolError(error: unknown, kind?: ProtocolErrorKind): error is ProtocolError {
  return error instanceof ProtocolError && (kind === undefined || error.kind === kind);
}
