/**
 * A connection to one registry, as layers that each do one thing, from the outside in:
 * - retry (retry.ts): the one layer that retries, once per step (a request that can be sent again, an
 *   upload resumed by hand), with one budget of attempts and time; no layer below retries;
 * - the client (here): a request's expected statuses, and the registry's errors for the others;
 * - auth (authorizer.ts): the Authorization header on the registry's origin, a refused token renewed once;
 * - redirects (redirect.ts): followed where safe, never from https to http;
 * - the connection (transport.ts): agents, TLS, proxies, the connect and no-progress deadlines.
 * Connecting pings `/v2/` first (ping.ts) for the URL that answers and its auth challenge.
 * Repository operations (blobs, manifests) are in repository.ts.
 */
import type { Readable } from "node:stream";
import { ProtocolError } from "../protocol-error.js";
import { isRegistryHost, registryEndpoint } from "../reference/host.js";
import { Authorizer } from "./authorizer.js";
import type { BodyKind } from "./body-limit.js";
import { anonymous, type CredentialSource } from "./credential.js";
import { parseErrorBody, RegistryHttpError } from "./errors.js";
import { checkNextUrl, sameOrigin } from "./origin.js";
import { pingRegistry } from "./ping.js";
import {
  defaultRetryPolicy,
  parseRetryAfter,
  RetryBudget,
  type RetryNotice,
  type RetryPolicy,
  withRetry,
} from "./retry.js";
import { type HttpMethod, HttpTransport, type TransportOptions } from "./transport.js";

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
const DEFAULT_CHUNK_THRESHOLD = 8 * 1024 * 1024;

/** The most bytes one PATCH of a chunked upload carries. */
export const DEFAULT_CHUNK_SIZE = 16 * 1024 * 1024;

/** How long cancelling an upload session may take (after a failure or a signal: the run is ending). */
const CLEANUP_TIMEOUT_MS = 5_000;

/** One signal for several (undefined ones left out); undefined when none is given. */
function anySignal(...signals: (AbortSignal | undefined)[]): AbortSignal | undefined {
  const given = signals.filter((s): s is AbortSignal => s !== undefined);
  return given.length <= 1 ? given[0] : AbortSignal.any(given);
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
    try {
      const userAgent = options.userAgent ?? "buildx-step";
      // The ping goes out while the credentials are looked up (a caller may hold those back).
      const pinging = pingRegistry(transport, endpoint, { ...options, userAgent, policy });
      pinging.catch(() => undefined);
      const credential = await (options.credentials ?? anonymous)(options.host);
      const { base, challenge } = await pinging;
      const authorizer = new Authorizer({
        host: options.host,
        registry: base,
        challenge,
        signal: options.signal,
        credential,
        transport,
        userAgent,
        onSecret: options.onSecret,
      });
      return new RegistryClient(options, base, transport, authorizer, policy);
    } catch (error) {
      transport.close();
      throw error;
    }
  }

  /**
   * Sends one request through the auth layer: the answer when its status is expected, else the
   * registry's error (a 401 that a new token may get past is marked retryable for the step).
   */
  async send(request: RegistryRequest): Promise<RegistryResponse & { text: string }> {
    const target = new URL(request.url, this.base);
    checkNextUrl(request.operation, this.base, target, "the registry sent the request on");
    if (!request.cleanup) this.#signal?.throwIfAborted();
    const { response, url, renewable } = await this.#authorizer.send({
      operation: request.operation,
      url: target,
      method: request.method,
      headers: { "user-agent": this.#options.userAgent ?? "buildx-step", ...request.headers },
      scopes: request.scopes,
      body: request.body,
      signal: request.cleanup
        ? AbortSignal.timeout(CLEANUP_TIMEOUT_MS)
        : anySignal(this.#abortSignal, request.signal),
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
      throw new RegistryHttpError(request.operation, 401, parseErrorBody(text), {
        hint: "the registry refused the credentials",
        login: this.host,
        // A stream cannot be sent again here: the caller restarts the whole step with the new token.
        retryable: renewable,
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
