/**
 * The HTTP(S) connection to one registry: keep-alive agents with the TLS settings the user gave, the rule
 * for when plain HTTP is allowed, and one request function. Docker's rule, followed here: a loopback
 * registry (and one marked insecure) may answer over plain HTTP; elsewhere only verified HTTPS is used.
 * https://docs.docker.com/engine/daemon/insecure-registries/
 *
 * Node's own http/https modules, not undici: they are part of Node's start-up snapshot, where loading
 * undici costs 0.3 s or more of every run, and a push that finds everything in place takes less than that.
 */
import { readFileSync } from "node:fs";
import {
  Agent as HttpAgent,
  request as httpRequest,
  type IncomingHttpHeaders,
  type IncomingMessage,
} from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";
import type { Socket } from "node:net";
import { Readable } from "node:stream";
import { rootCertificates, type TLSSocket } from "node:tls";
import { UsageError } from "../errors.js";
import { BODY_LIMITS, type BodyKind, BodyTooLargeError, readWithin } from "./body-limit.js";
import { isLoopbackHost } from "./reference.js";
import { connectTimeout, DEFAULT_TIMEOUTS, noProgressTimeout, type Timeouts } from "./timeouts.js";

export interface TransportOptions {
  /** `PLUGIN_INSECURE`: plain HTTP allowed, and TLS without verification. */
  insecure?: boolean;
  /** `PLUGIN_REGISTRY_CA`: a PEM file with the CA that signed the registry's certificate. */
  caFile?: string;
  /** For `NODE_EXTRA_CA_CERTS`, which Node applies only to its default agent. */
  env?: NodeJS.ProcessEnv;
  /** Per-request deadlines (timeouts.ts); defaults for any left out. */
  timeouts?: Partial<Timeouts>;
}

/** The URLs to try for a registry endpoint, in order: HTTPS first; plain HTTP only where allowed. */
export function candidateBaseUrls(endpoint: string, insecure: boolean): URL[] {
  const urls = [new URL(`https://${endpoint}`)];
  if (insecure || isLoopbackHost(endpoint)) urls.push(new URL(`http://${endpoint}`));
  return urls;
}

function readPem(file: string, setting: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch (error) {
    throw new UsageError(
      `${setting}: cannot read the CA file ${file} (${(error as NodeJS.ErrnoException).code ?? error}): give the path of a PEM file`,
      [setting],
    );
  }
}

/**
 * The CAs to trust: Node's defaults unless a CA file is given; a given `ca` replaces Node's list, so
 * the public roots and NODE_EXTRA_CA_CERTS are added back by hand.
 */
export function trustedCas(options: TransportOptions): string[] | undefined {
  if (!options.caFile) return undefined;
  const cas = [...rootCertificates];
  const extra = (options.env ?? process.env).NODE_EXTRA_CA_CERTS;
  if (extra) {
    try {
      cas.push(readFileSync(extra, "utf8"));
    } catch {
      // Node itself only warns about an unreadable NODE_EXTRA_CA_CERTS; so do we, by ignoring it.
    }
  }
  cas.push(readPem(options.caFile, "PLUGIN_REGISTRY_CA"));
  return cas;
}

/**
 * Whether to verify the registry's certificate. Docker marks loopback registries insecure (no
 * verification); here a loopback registry is verified when the user gave its CA, since they asked for it.
 */
export function verifiesCertificate(endpoint: string, options: TransportOptions): boolean {
  if (options.insecure) return false;
  return !isLoopbackHost(endpoint) || Boolean(options.caFile);
}

export type HttpMethod = "GET" | "HEAD" | "POST" | "PUT" | "PATCH" | "DELETE";

export interface HttpRequest {
  url: URL;
  method: HttpMethod;
  headers: Record<string, string>;
  /** A stream is piped (its Content-Length must be in the headers); its error aborts the request. */
  body?: Buffer | string | Readable | AsyncIterable<Buffer>;
  signal?: AbortSignal;
}

export interface HttpResponse {
  statusCode: number;
  headers: IncomingHttpHeaders;
  /**
   * The body as text, read up to the limit for its kind; over it the request is aborted and a
   * {@link BodyTooLargeError} names `what` and the limit.
   */
  text(kind: BodyKind, what: string): Promise<string>;
  /** Reads and drops the body (up to the error limit), so the connection can be reused. */
  dump(): Promise<void>;
}

function wrapResponse(response: IncomingMessage): HttpResponse {
  const within = async (kind: BodyKind) => {
    const bytes = await readWithin(response, BODY_LIMITS[kind], response.headers["content-length"]);
    // Over the limit: the connection is closed, not drained (draining is what the limit prevents).
    if (!bytes) response.destroy();
    return bytes;
  };
  return {
    statusCode: response.statusCode ?? 0,
    headers: response.headers,
    text: async (kind, what) => {
      const bytes = await within(kind);
      if (!bytes) throw new BodyTooLargeError(what, kind);
      return bytes.toString("utf8");
    },
    dump: async () => {
      await within("error");
    },
  };
}

/** Whether a socket handed to a request is connected (and, for TLS, past its handshake). */
function connectionReady(socket: Socket, secure: boolean): boolean {
  if (socket.connecting) return false;
  // A TLS client has sent its Finished message once its handshake is done.
  return !secure || (socket as TLSSocket).getFinished?.() !== undefined;
}

export class HttpTransport {
  readonly #http = new HttpAgent({ keepAlive: true });
  readonly #https: HttpsAgent;
  readonly #timeouts: Timeouts;

  constructor(endpoint: string, options: TransportOptions) {
    this.#timeouts = { ...DEFAULT_TIMEOUTS, ...options.timeouts };
    const ca = trustedCas(options);
    this.#https = new HttpsAgent({
      keepAlive: true,
      ...(ca ? { ca } : {}),
      rejectUnauthorized: verifiesCertificate(endpoint, options),
    });
  }

  request(request: HttpRequest): Promise<HttpResponse> {
    const secure = request.url.protocol === "https:";
    const send = secure ? httpsRequest : httpRequest;
    const { connectMs, noProgressMs } = this.#timeouts;
    return new Promise((resolve, reject) => {
      const outgoing = send(
        request.url,
        {
          method: request.method,
          headers: request.headers,
          agent: secure ? this.#https : this.#http,
          signal: request.signal,
        },
        (response) => {
          clearTimeout(connectTimer);
          resolve(wrapResponse(response));
        },
      );
      // The run's signal (a signal, the push deadline) ends a request with its own reason, not an AbortError.
      outgoing.on("error", (error) =>
        reject(
          request.signal?.aborted && request.signal.reason instanceof Error ? request.signal.reason : error,
        ),
      );
      // Connect timeout: from now until the connection is ready (a reused one is ready at once).
      const connectTimer = setTimeout(
        () => outgoing.destroy(connectTimeout(request.url.host, connectMs)),
        connectMs,
      );
      outgoing.once("close", () => clearTimeout(connectTimer));
      outgoing.once("socket", (socket) => {
        if (outgoing.reusedSocket || connectionReady(socket, secure)) clearTimeout(connectTimer);
        else socket.once(secure ? "secureConnect" : "connect", () => clearTimeout(connectTimer));
      });
      // No-progress timeout: the socket's idle timer, which every byte read or written resets.
      outgoing.setTimeout(noProgressMs, () =>
        outgoing.destroy(noProgressTimeout(request.url.host, noProgressMs)),
      );
      const body = request.body;
      if (body === undefined || typeof body === "string" || Buffer.isBuffer(body)) {
        outgoing.end(body);
        return;
      }
      const stream = body instanceof Readable ? body : Readable.from(body, { objectMode: false });
      // The body's error (a blob that does not match its digest) aborts the request, never completes it.
      stream.once("error", (error) => outgoing.destroy(error));
      stream.pipe(outgoing);
    });
  }

  close(): void {
    this.#http.destroy();
    this.#https.destroy();
  }
}
