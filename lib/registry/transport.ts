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
import type { Agent as HttpsAgent } from "node:https";
import type { Socket } from "node:net";
import { Readable } from "node:stream";
import type { TLSSocket } from "node:tls";
import { ProtocolError } from "../protocol-error.js";
import { isLoopbackHost } from "../reference/host.js";
import { written } from "../reusable-buffers.js";
import { BODY_LIMITS, type BodyKind, bodyTooLarge, readWithin } from "./body-limit.js";
import type { ProxyAgents } from "./proxy-agents.js";
import {
  type ProxyConfig,
  type ProxyServer,
  proxyConfigFrom,
  proxyFor,
  proxyVariablesSet,
} from "./proxy-env.js";
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

/**
 * The URLs to try for a registry endpoint, in order: HTTPS first; plain HTTP only where allowed. A loopback
 * registry without a given CA is asked over plain HTTP first, since nearly all of them serve it and a TLS
 * attempt costs Node's first TLS context (~20 ms of a small push); then HTTPS, for one that serves TLS
 * there; then plain HTTP again, with retries (a registry still starting refused both), as before.
 */
export function candidateBaseUrls(endpoint: string, insecure: boolean, caFile?: string): URL[] {
  const https = new URL(`https://${endpoint}`);
  const http = new URL(`http://${endpoint}`);
  if (isLoopbackHost(endpoint) && !caFile) return [http, https, http];
  return insecure || isLoopbackHost(endpoint) ? [https, http] : [https];
}

function readPem(file: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch (error) {
    throw new ProtocolError(
      "unreadable-ca",
      `cannot read the CA file ${file} (${(error as NodeJS.ErrnoException).code ?? error}): give the path of a PEM file`,
    );
  }
}

/**
 * The CAs to trust: Node's defaults unless a CA file is given; a given `ca` replaces Node's list, so
 * the public roots and NODE_EXTRA_CA_CERTS are added back by hand.
 */
export function trustedCas(options: TransportOptions): string[] | undefined {
  if (!options.caFile) return undefined;
  const cas = [...process.getBuiltinModule("node:tls").rootCertificates];
  const extra = (options.env ?? process.env).NODE_EXTRA_CA_CERTS;
  if (extra) {
    try {
      cas.push(readFileSync(extra, "utf8"));
    } catch {
      // Node itself only warns about an unreadable NODE_EXTRA_CA_CERTS; so do we, by ignoring it.
    }
  }
  cas.push(readPem(options.caFile));
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
  /** The connect timeout lasts until the answer (a plain-HTTP ping: no TLS handshake shows the server lives). */
  answerWithinConnect?: boolean;
}

export interface HttpResponse {
  statusCode: number;
  headers: IncomingHttpHeaders;
  /**
   * The body as text, read up to the limit for its kind; over it the request is aborted and a
   * {@link bodyTooLarge} names `what` and the limit.
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
      if (!bytes) throw bodyTooLarge(what, kind);
      return bytes.toString("utf8");
    },
    dump: async () => {
      await within("error");
    },
  };
}

/** The proxy refused to carry a request: its own answer, named as the proxy's (never with its credentials). */
function proxyRefused(proxy: ProxyServer, url: URL, status: number): ProtocolError {
  // 407 is the standard answer (RFC 9110 §15.5.8); some proxies (tinyproxy) answer a tunnel with 401.
  const hint =
    status === 407 || status === 401
      ? `it asks for credentials: give them in ${proxy.variable} as http://user:password@host:port`
      : `check ${proxy.variable}, and NO_PROXY if ${url.hostname} should be reached directly`;
  return new ProtocolError(
    "rejected",
    `the proxy ${proxy.display} (${proxy.variable}) refused the request to ${url.host} with HTTP ${status}: ${hint}`,
  );
}

/** Whether a socket handed to a request is connected (and, for TLS, past its handshake). */
function connectionReady(socket: Socket, secure: boolean): boolean {
  if (socket.connecting) return false;
  // A TLS client has sent its Finished message once its handshake is done.
  return !secure || (socket as TLSSocket).getFinished?.() !== undefined;
}

/** The proxies of the environment and their agents, when a proxy variable is set. */
interface Proxies {
  config: ProxyConfig;
  agents: ProxyAgents;
}

export class HttpTransport {
  readonly #http = new HttpAgent({ keepAlive: true });
  #https: HttpsAgent | undefined;
  readonly #endpoint: string;
  readonly #verifiesEndpoint: boolean;
  readonly #ca: string[] | undefined;
  readonly #timeouts: Timeouts;
  readonly #proxies: Proxies | undefined;

  private constructor(endpoint: string, options: TransportOptions, proxies: Proxies | undefined) {
    this.#endpoint = endpoint;
    this.#verifiesEndpoint = verifiesCertificate(endpoint, options);
    this.#ca = trustedCas(options);
    this.#timeouts = { ...DEFAULT_TIMEOUTS, ...options.timeouts };
    this.#proxies = proxies;
  }

  /**
   * A transport for the registry at `endpoint`. The proxy code (proxy-agents.ts and its libraries) is
   * loaded only when the environment names a proxy.
   */
  static async create(endpoint: string, options: TransportOptions): Promise<HttpTransport> {
    const env = options.env ?? process.env;
    let proxies: Proxies | undefined;
    if (proxyVariablesSet(env)) {
      const config = proxyConfigFrom(env);
      const { ProxyAgents } = await import("./proxy-agents.js");
      proxies = { config, agents: new ProxyAgents() };
    }
    return new HttpTransport(endpoint, options, proxies);
  }

  /** The proxy a request to `url` goes through, if any (for messages). */
  proxyFor(url: URL): ProxyServer | undefined {
    return this.#proxies ? proxyFor(url, this.#proxies.config) : undefined;
  }

  /**
   * TLS settings per request, not per agent: `PLUGIN_INSECURE` and docker's unverified loopback apply to
   * the registry's own host only; a redirect or a token realm elsewhere is always verified.
   */
  #tlsOptions(url: URL): { ca?: string[]; rejectUnauthorized: boolean } {
    const verify = url.host === this.#endpoint ? this.#verifiesEndpoint : true;
    return { ...(this.#ca ? { ca: this.#ca } : {}), rejectUnauthorized: verify };
  }

  /** Made at the first HTTPS request, as node:https itself is loaded then (see request). */
  #httpsAgent(): HttpsAgent {
    this.#https ??= new (process.getBuiltinModule("node:https").Agent)({ keepAlive: true });
    return this.#https;
  }

  request(request: HttpRequest): Promise<HttpResponse> {
    const secure = request.url.protocol === "https:";
    // node:https (and tls) load at the first HTTPS request: a plain-HTTP push never pays for them.
    const send = secure ? process.getBuiltinModule("node:https").request : httpRequest;
    const { connectMs, noProgressMs } = this.#timeouts;
    const proxy = this.proxyFor(request.url);
    const agent = proxy
      ? (this.#proxies as Proxies).agents.agentFor(proxy, secure ? "https:" : "http:")
      : secure
        ? this.#httpsAgent()
        : this.#http;
    return new Promise((resolve, reject) => {
      let proxyRefusal: number | undefined;
      const outgoing = send(
        request.url,
        {
          method: request.method,
          headers: request.headers,
          agent,
          signal: request.signal,
          ...(secure ? this.#tlsOptions(request.url) : {}),
        },
        (response) => {
          clearTimeout(connectTimer);
          const status = proxyRefusal ?? (proxy && response.statusCode === 407 ? 407 : undefined);
          if (proxy && status !== undefined) {
            // The proxy's answer, not the registry's: never taken for the registry's status.
            response.destroy();
            reject(proxyRefused(proxy, request.url, status));
            return;
          }
          resolve(wrapResponse(response));
        },
      );
      // https-proxy-agent reports the proxy's answer to CONNECT, then hands the request that answer.
      outgoing.on("proxyConnect", (connect: { statusCode?: number }) => {
        if (connect.statusCode !== undefined && connect.statusCode !== 200) proxyRefusal = connect.statusCode;
      });
      // The run's signal (a signal, the push deadline) ends a request with its own reason, not an AbortError.
      outgoing.on("error", (error) =>
        reject(
          request.signal?.aborted && request.signal.reason instanceof Error ? request.signal.reason : error,
        ),
      );
      // Connect timeout: from now until the connection is ready (a reused one is ready at once).
      const connectTimer = setTimeout(
        () => outgoing.destroy(connectTimeout(request.url.host, connectMs, proxy?.display)),
        connectMs,
      );
      outgoing.once("close", () => clearTimeout(connectTimer));
      outgoing.once("socket", (socket) => {
        if (request.answerWithinConnect) return;
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
      // As pipe(), but each write gives its read buffer back once the socket has written it.
      stream.on("data", (chunk: Buffer) => {
        if (!outgoing.write(chunk, (error) => error || written(chunk))) stream.pause();
      });
      outgoing.on("drain", () => stream.resume());
      outgoing.once("close", () => stream.pause());
      stream.once("end", () => outgoing.end());
    });
  }

  close(): void {
    this.#http.destroy();
    this.#https?.destroy();
    this.#proxies?.agents.destroy();
  }
}
