/**
 * Origins (scheme, host, port: RFC 6454) of the URLs a registry sends the client to: an upload's
 * `Location`, a redirect, a token realm. Credentials belong to the origin that answered `/v2/` (and Basic
 * credentials also to its token realm): any other origin gets no Authorization header, and a request that
 * started on https never continues on plain http. Docker and go-containerregistry attach credentials by
 * host the same way (go-containerregistry's transport: `matchesHost` before setting Authorization).
 */
import { ProtocolError } from "../protocol-error.js";

/** Same scheme, host and port; `new URL` lower-cases hosts and drops default ports, so `origin` compares. */
export function sameOrigin(a: URL, b: URL): boolean {
  return isHttp(a) && isHttp(b) && a.origin === b.origin;
}

export function isHttp(url: URL): boolean {
  return url.protocol === "https:" || url.protocol === "http:";
}

/** A URL for messages: origin and path, never the query (a signed upload URL carries its signature there). */
export function describeUrl(url: URL): string {
  return isHttp(url) ? `${url.origin}${url.pathname}` : `${url.protocol}…`;
}

/**
 * Throws (`unsafe-url`) unless a request may go from `from` (where it, or the registry, was) to `to`:
 * http(s) only, and never from https down to http.
 */
export function checkNextUrl(operation: string, from: URL, to: URL, how: string): void {
  if (isHttp(to) && (from.protocol !== "https:" || to.protocol === "https:")) return;
  throw new ProtocolError(
    "unsafe-url",
    isHttp(to)
      ? `${operation}: ${how} from ${from.origin} to ${describeUrl(to)}, which is plain HTTP: a request that started on https never continues on http (credentials and image data would travel unencrypted), so it was refused; the registry (or the proxy in front of it) must give https URLs, e.g. set its external URL or forward X-Forwarded-Proto`
      : `${operation}: ${how} from ${from.origin} to a ${to.protocol} URL, which is not HTTP; refused`,
  );
}
