/**
 * A connection to one registry: which URL answers (HTTPS, or plain HTTP where allowed), the auth
 * challenge from `GET /v2/` (distribution spec, "Determining support"), and the one place requests are
 * sent, with the Authorization header added and a refused token renewed once.
 * Repository operations (blobs, manifests) are in repository.ts.
 */
import type { Readable } from "node:stream";
import { anonymous, type CredentialSource } from "../auth/credential.js";
import { messageOf } from "../errors.js";
import { ProtocolError } from "../protocol-error.js";
import { Authorizer } from "./authorizer.js";
import type { BodyKind } from "./body-limit.js";
import { parseChallenge } from "./challenge.js";
import { parseErrorBody, RegistryHttpError } from "./errors.js";
import { checkNextUrl, sameOrigin } from "./origin.js";
import { sendFollowingRedirects } from "./redirect.js";
import { isRegistryHost, registryEndpoint } from "./reference.js";
import {
  defaultRetryPolicy,
  parseRetryAfter,
  RetryBudget,
  type RetryNotice,
  type RetryPolicy,
  withRetry,
} from "./retry.js";
import { isRequestTimeout } from "./timeouts.js";
import { candidateBaseUrls, type HttpMethod, HttpTransport, type TransportOptions } from "./transport.js";

export interface RegistryClientOptions extends TransportOptions {
  /** The registry as in image references (`docker.io`, `ghcr.io`, `127.0.0.1:5000`). */
  host: string;
  credentials?: CredentialSource;
  retry?: Partial<RetryPolicy>;
  /** Blobs larger than this are uploaded in chunks (PATCH with Content-Range); smaller ones in one PUT. */
  chunkThreshold?: number;
  chunkSize?: number;
  userAgent?: string;
  /** Called before each retry, e.g. for a debug line. */
  onRetry?: (operation: string, notice: RetryNotice) => void;
  /** Told every secret the client obtains (a token server's tokens), for the log to mask. */
  onSecret?: (value: string) => void;
  /**
   * Stops the client (SIGINT/SIGTERM, the push deadline): no request, retry or wait starts once it has
   * aborted, and the error is its reason. Only the cancelling of upload sessions (requests marked
   * `cleanup`) still goes out, within its own short bound.
   */
  signal?: AbortSignal;
  /**
   * Cuts requests already under way; default: `signal`. A run that stops on a signal lets the requests
   * under way end first (a chunk, a small blob), so that their upload sessions can then be cancelled:
   * distribution cannot cancel a session whose last request was cut off half-way (its `_state` no
   * longer matches the bytes it holds), and keeps it until its purge, a week later by default.
   */
  abortSignal?: AbortSignal;
}

export interface RegistryRequest {
  /** What this request does, for errors: "upload of blob sha256:… to host/repo". */
  operation: string;
  method: HttpMethod;
  /** A path on the registry (`/v2/...`) or an absolute URL (an upload's Location). */
  url: string;
  scopes: string[];
  headers?: Record<string, string>;
  /** A Buffer can be sent again after a token renewal; a stream cannot (the caller restarts the step). */
  body?: Buffer | string | Readable | AsyncIterable<Buffer>;
  /** Statuses that mean success. */
  expect: number[];
  /** What a successful answer's body is, for its size limit; default: not used (the error limit). */
  bodyKind?: BodyKind;
  /** Cleanup after a failure or a signal: sent even when the run has stopped, within CLEANUP_TIMEOUT_MS. */
  cleanup?: boolean;
  signal?: AbortSignal;
}

export interface RegistryResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** The URL that gave this answer (after redirects): relative Locations in it resolve against it. */
  url: URL;
}

/** Blobs larger than this are uploaded in chunks; smaller ones in one PUT. */
export const DEFAULT_CHUNK_THRESHOLD = 8 * 1024 * 1024;

/** The most bytes one PATCH of a chunked upload carries. */
export const DEFAULT_CHUNK_SIZE = 16 * 1024 * 1024;

/** How long cancelling an upload session may take (after a failure or a signal: the run is ending). */
const CLEANUP_TIMEOUT_MS = 5_000;

/** One signal for several (undefined ones left out); undefined when none is given. */
function anySignal(...signals: (AbortSignal | undefined)[]): AbortSignal | undefined {
  const given = signals.filter((s): s is AbortSignal => s !== undefined);
  return given.length <= 1 ? given[0] : AbortSignal.any(given);
}

/** TLS errors that mean "the certificate is not trusted": the user can fix them with a setting. */
const CERTIFICATE_ERRORS =
  /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER|ERR_TLS_CERT_ALTNAME_INVALID|HOSTNAME_MISMATCH/;

function connectionErrorCode(error: unknown): string | undefined {
  return (error as { code?: string }).code ?? (error as { cause?: { code?: string } }).cause?.code;
}

function describeConnectionError(error: unknown): string {
  const code = connectionErrorCode(error);
  const message = messageOf(error);
  return code && !message.includes(code) ? `${message} (${code})` : message;
}

export function headerValue(headers: RegistryResponse["headers"], name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

export class RegistryClient {
  /** The registry as in image references. */
  readonly host: string;
  /** The URL that answered `/v2/`. */
  readonly base: URL;
  readonly retryPolicy: RetryPolicy;
  readonly chunkThreshold: number;
  readonly chunkSize: number;
  readonly #transport: HttpTransport;
  readonly #authorizer: Authorizer;
  readonly #options: RegistryClientOptions;
  readonly #signal: AbortSignal | undefined;
  readonly #abortSignal: AbortSignal | undefined;

  private constructor(
    options: RegistryClientOptions,
    base: URL,
    transport: HttpTransport,
    authorizer: Authorizer,
    policy: RetryPolicy,
  ) {
    this.host = options.host;
    this.base = base;
    this.retryPolicy = policy;
    this.chunkThreshold = options.chunkThreshold ?? DEFAULT_CHUNK_THRESHOLD;
    this.chunkSize = options.chunkSize ?? DEFAULT_CHUNK_SIZE;
    this.#transport = transport;
    this.#authorizer = authorizer;
    this.#options = options;
    this.#signal = options.signal;
    this.#abortSignal = options.abortSignal ?? options.signal;
  }

  /** Finds the URL where the registry answers and its auth challenge. */
  static async connect(options: RegistryClientOptions): Promise<RegistryClient> {
    const endpoint = registryEndpoint(options.host);
    // The credentials were chosen by this name: it must be the host the requests go to.
    if (!isRegistryHost(endpoint)) {
      throw new ProtocolError(
        "invalid-address",
        `"${options.host}" is not a registry host (letters, digits, - and . or an [IPv6] address, with an optional :port): nothing was sent`,
      );
    }
    const policy = { ...defaultRetryPolicy, ...options.retry };
    const transport = await HttpTransport.create(endpoint, options);
    const credential = await (options.credentials ?? anonymous)(options.host);
    const userAgent = options.userAgent ?? "buildx-step";
    const candidates = candidateBaseUrls(endpoint, Boolean(options.insecure));
    const failures: string[] = [];
    let untrusted = false;
    for (const [index, base] of candidates.entries()) {
      const last = index === candidates.length - 1;
      try {
        // With a plain-HTTP fallback left, HTTPS gets one attempt: a plain-HTTP server fails it at once.
        // A /v2/ that did not answer within a timeout is not asked again: the registry is down.
        const response = await withRetry(() => ping(transport, base, userAgent, options.signal), {
          policy: last ? { ...policy, timeoutAttempts: 1 } : { ...policy, attempts: 1 },
          signal: options.signal,
          onRetry: (notice) => options.onRetry?.(`ping ${base.origin}`, notice),
        });
        const authorizer = new Authorizer({
          host: options.host,
          registry: base,
          signal: options.signal,
          credential,
          transport,
          retry: policy,
          userAgent,
          onSecret: options.onSecret,
        });
        if (response.status === 401)
          authorizer.challenge = parseChallenge(response.headers["www-authenticate"]);
        return new RegistryClient(options, base, transport, authorizer, policy);
      } catch (error) {
        // A registry that answered is final, unless it is the plain-HTTP fallback answering for a TLS server.
        // So is a stopped run, and a timeout: a plain-HTTP server would have refused the TLS handshake
        // at once, not left it unanswered, so trying plain HTTP on the same port cannot help.
        if (
          (error instanceof RegistryHttpError && failures.length === 0) ||
          options.signal?.aborted ||
          isRequestTimeout(error)
        ) {
          transport.close();
          throw isRequestTimeout(error) ? error.during(`connecting to the registry ${options.host}`) : error;
        }
        untrusted ||= CERTIFICATE_ERRORS.test(connectionErrorCode(error) ?? "");
        const proxy = transport.proxyFor(base);
        const through = proxy ? ` (through the proxy ${proxy.display} from ${proxy.variable})` : "";
        failures.push(
          `${base.origin}${through}: ${error instanceof RegistryHttpError ? error.message : describeConnectionError(error)}`,
        );
      }
    }
    transport.close();
    throw new ProtocolError(
      untrusted ? "untrusted-certificate" : "unreachable",
      `cannot reach the registry ${options.host}: ${failures.join("; ")}`,
    );
  }

  /**
   * Sends one request, following redirects where that is safe (redirect.ts). The Authorization header
   * goes only to the registry's own origin: an upload Location or a redirect elsewhere (object storage)
   * gets none, and a request never goes from https to http. A 401 from the registry renews the token
   * and, for a replayable body, tries once more; a 401 from another origin changes nothing of the login.
   */
  async send(request: RegistryRequest): Promise<RegistryResponse & { text: string }> {
    const replayable =
      request.body === undefined || Buffer.isBuffer(request.body) || typeof request.body === "string";
    const target = new URL(request.url, this.base);
    checkNextUrl(request.operation, this.base, target, "the registry sent the request on");
    if (!request.cleanup) this.#signal?.throwIfAborted();
    const signal = request.cleanup
      ? AbortSignal.timeout(CLEANUP_TIMEOUT_MS)
      : anySignal(this.#abortSignal, request.signal);
    for (let renewed = false; ; renewed = true) {
      const authorization = await this.#authorizer.header(request.scopes);
      const { response, url } = await sendFollowingRedirects(this.#transport, {
        operation: request.operation,
        url: target,
        method: request.method,
        headersFor: (hop) => {
          const headers: Record<string, string> = {
            "user-agent": this.#options.userAgent ?? "buildx-step",
            ...request.headers,
          };
          if (authorization && sameOrigin(hop, this.base)) headers.authorization = authorization;
          return headers;
        },
        body: request.body,
        signal,
      }).catch((error: unknown) => {
        throw isRequestTimeout(error) ? error.during(request.operation) : error;
      });
      const expected = request.expect.includes(response.statusCode);
      const text =
        request.method === "HEAD"
          ? ""
          : await response.text(expected ? (request.bodyKind ?? "error") : "error", request.operation);
      if (request.method === "HEAD") await response.dump();
      if (expected) {
        return { status: response.statusCode, headers: response.headers, text, url };
      }
      if (response.statusCode === 401 && !sameOrigin(url, this.base)) {
        throw new RegistryHttpError(request.operation, 401, parseErrorBody(text), {
          hint: `${url.origin} is not the registry (${this.base.origin}): it was sent no credentials, and its refusal does not change the login to ${this.host}`,
        });
      }
      if (response.statusCode === 401) {
        const challenge = parseChallenge(response.headers["www-authenticate"]);
        const worthRetrying = this.#authorizer.refused(challenge, request.scopes);
        if (worthRetrying && !renewed && replayable) continue;
        throw new RegistryHttpError(request.operation, 401, parseErrorBody(text), {
          hint: "the registry refused the credentials",
          login: this.host,
          // A stream cannot be sent again here: the caller restarts the whole step with the new token.
          retryable: worthRetrying && !renewed && !replayable,
        });
      }
      throw new RegistryHttpError(request.operation, response.statusCode, parseErrorBody(text), {
        retryAfterMs: parseRetryAfter(headerValue(response.headers, "retry-after")),
        hint:
          response.statusCode === 403
            ? `the credentials for ${this.host} are not allowed to do this; check the account's rights on the repository`
            : undefined,
      });
    }
  }

  /** Runs an idempotent step with this registry's retry policy. */
  retry<T>(operation: string, step: (attempt: number) => Promise<T>, signal?: AbortSignal): Promise<T> {
    return withRetry(step, {
      policy: this.retryPolicy,
      signal: anySignal(this.#signal, signal),
      onRetry: (notice) => this.#options.onRetry?.(operation, notice),
    });
  }

  /** The retries of a step repeated by hand (an upload resumed, a manifest write repaired), in this registry's policy. */
  retryBudget(operation: string, signal?: AbortSignal): RetryBudget {
    return new RetryBudget(this.retryPolicy, {
      signal: anySignal(this.#signal, signal),
      onRetry: (notice) => this.#options.onRetry?.(operation, notice),
    });
  }

  async close(): Promise<void> {
    this.#transport.close();
  }
}

async function ping(
  transport: HttpTransport,
  base: URL,
  userAgent: string,
  signal: AbortSignal | undefined,
): Promise<RegistryResponse> {
  const response = await transport.request({
    url: new URL("/v2/", base),
    method: "GET",
    headers: { "user-agent": userAgent },
    signal,
  });
  const text = await response.text("ping", `${base.origin}/v2/`);
  if (response.statusCode === 200 || response.statusCode === 401) {
    return { status: response.statusCode, headers: response.headers, url: base };
  }
  throw new RegistryHttpError(`${base.origin}/v2/`, response.statusCode, parseErrorBody(text), {
    retryAfterMs: parseRetryAfter(headerValue(response.headers, "retry-after")),
    hint: response.statusCode === 404 ? "this is not an OCI distribution (v2) registry" : undefined,
  });
}
