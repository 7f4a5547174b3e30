/**
 * Following redirects: registries backed by object storage answer blob reads (and some uploads) with a
 * 307 to a signed URL on another host. Reads (GET, HEAD) and bodiless DELETEs follow any redirect; a PUT
 * with a body that can be sent again follows 307 and 308, which keep the method (RFC 9110 §15.4). At most
 * 10 hops, as Go's http.Client (which docker and go-containerregistry use). Each hop is checked like an
 * upload Location: never from https to http, and credentials only on their own origin (the caller's
 * `headersFor`).
 */
import { ProtocolError } from "../protocol-error.js";
import { checkNextUrl, describeUrl } from "./origin.js";
import type { HttpMethod, HttpRequest, HttpResponse, HttpTransport } from "./transport.js";

const MAX_REDIRECTS = 10;

const REDIRECTS = new Set([301, 302, 303, 307, 308]);
const METHOD_KEEPING = new Set([307, 308]);

/** Whether a response with `status` to `method` is a redirect this client follows. */
export function followsRedirect(method: HttpMethod, status: number, bodyReplayable: boolean): boolean {
  if (!REDIRECTS.has(status)) return false;
  if (method === "GET" || method === "HEAD" || method === "DELETE") return true;
  return method === "PUT" && bodyReplayable && METHOD_KEEPING.has(status);
}

/** Whether a body can be sent again: none, bytes or text can; a stream is read once. */
export function isReplayable(body: HttpRequest["body"]): boolean {
  return body === undefined || Buffer.isBuffer(body) || typeof body === "string";
}

export interface RedirectingRequest extends Omit<HttpRequest, "headers"> {
  /** What the request does, for errors. */
  operation: string;
  /** The headers for a hop to `url`: credentials only where they belong. */
  headersFor: (url: URL) => Record<string, string>;
}

/** Sends a request and follows its redirects; returns the last response and the URL that gave it. */
export async function sendFollowingRedirects(
  transport: HttpTransport,
  request: RedirectingRequest,
): Promise<{ response: HttpResponse; url: URL }> {
  const replayable = isReplayable(request.body);
  let url = request.url;
  for (let hops = 0; ; hops++) {
    const response = await transport.request({ ...request, url, headers: request.headersFor(url) });
    const location = response.headers.location;
    if (!location || !followsRedirect(request.method, response.statusCode, replayable)) {
      return { response, url };
    }
    await response.dump();
    if (hops >= MAX_REDIRECTS) {
      throw new ProtocolError(
        "bad-response",
        `${request.operation}: more than ${MAX_REDIRECTS} redirects (the last to ${describeUrl(url)}); a redirect loop in the registry or its storage`,
      );
    }
    let next: URL;
    try {
      next = new URL(location, url);
    } catch {
      throw new ProtocolError(
        "bad-response",
        `${request.operation}: ${describeUrl(url)} redirected to something that is not a URL`,
      );
    }
    checkNextUrl(request.operation, url, next, "a redirect");
    url = next;
  }
}
