/**
 * A failure as the protocol code (registry client, archive reader, engine client) sees it: a kind, and
 * words that say where. Protocol code knows neither settings nor exit codes: the modes add the hints that
 * name a setting (modes/setting-hints.ts), and the CLI maps kinds to exit codes (errors.ts exitCodeOf).
 */
export type ProtocolErrorKind =
  // A registry's or the engine's answer. `unauthorized`: the login was refused (401, a token server's 403).
  | "unauthorized"
  /** The registry wants a login, and none was given. */
  | "login-required"
  | "denied"
  | "not-found"
  | "too-large"
  /** Any other refusal. */
  | "rejected"
  /** An answer that breaks the protocol: no token, no upload Location, a redirect loop, another digest. */
  | "bad-response"
  /** Sent on to a URL the request may not go to: plain http after https, or not http. */
  | "unsafe-url"
  | "unreachable"
  | "untrusted-certificate"
  | "timed-out"
  /** Some tags were written before the failure. */
  | "partial-push"
  | "engine-refused"
  /** The caller asked for what cannot be done (a push with no manifest, no tag). */
  | "bad-request"
  // The input, wrong before anything was sent. `digest-mismatch`: the image source is corrupted.
  | "digest-mismatch"
  | "corrupt-archive"
  /** An archive that different readers would read differently. */
  | "ambiguous-archive"
  | "not-an-archive"
  | "no-such-file"
  | "unreadable-ca"
  /** A file the input needs that cannot be read (the engine's TLS certificates). */
  | "unreadable-file"
  /** An address that cannot be used: a registry host that is no host name, a proxy or DOCKER_HOST of no use. */
  | "invalid-address";

export class ProtocolError extends Error {
  readonly kind: ProtocolErrorKind;
  constructor(kind: ProtocolErrorKind, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "ProtocolError";
    this.kind = kind;
  }
}
