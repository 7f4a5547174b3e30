/**
 * The auth layer of the client (see client.ts): sends each request with the Authorization header its
 * scopes need, from the challenge the registry answered /v2/ with: none, Basic with the user's
 * credentials, or a Bearer token from the token server (https://distribution.github.io/distribution/spec/auth/token/,
 * .../auth/oauth/). Tokens are cached per set of scopes and fetched again when the registry refuses one.
 * Credentials go in headers and form bodies only, to the registry's own origin: never in a URL, a log
 * line or an error message.
 *
 * Nothing is retried here (a refused token aside, once): a failed token fetch fails the step that needed
 * it, and the step's retry (retry.ts, the one layer that retries) asks again. Retried here too, a token
 * server answering 503 got the square of the attempts (25 requests for one blob check).
 */

import { ProtocolError } from "../protocol-error.js";
import { type Challenge, parseChallenge } from "./challenge.js";
import type { Credential } from "./credential.js";
import { parseErrorBody, RegistryHttpError } from "./errors.js";
import { describeUrl, sameOrigin } from "./origin.js";
import { checkRealm } from "./realm.js";
import { isReplayable, type RedirectingRequest, sendFollowingRedirects } from "./redirect.js";
import { parseRetryAfter } from "./retry.js";
import { isRequestTimeout } from "./timeouts.js";
import type { HttpMethod, HttpResponse, HttpTransport } from "./transport.js";

interface CachedToken {
  token: string;
  /** ms since epoch; a token is fetched again a little before. */
  expiresAt: number;
}

/** Tokens without `expires_in` last 60 s (token spec); renew 10 s early so a request does not race it. */
const DEFAULT_TOKEN_LIFETIME_S = 60;
const RENEW_EARLY_MS = 10_000;

interface AuthorizerOptions {
  host: string;
  /** The URL that answered `/v2/`: the origin the credentials and tokens belong to. */
  registry: URL;
  /** What the registry's `/v2/` answered with (ping.ts). */
  challenge: Challenge;
  /** The run's signal: a token fetch stops with it. */
  signal?: AbortSignal;
  credential: Credential | undefined;
  transport: HttpTransport;
  userAgent: string;
  /**
   * Told every token the token server hands out, before it is used: a registry (or a proxy in front of
   * it) that echoes the request's headers in an error body would otherwise put it in the log.
   */
  onSecret?: (value: string) => void;
}

interface AuthorizedRequest extends Omit<RedirectingRequest, "headersFor"> {
  headers: Record<string, string>;
  scopes: string[];
}

/** The user's login as a Basic Authorization header, when there is one. */
function basicAuthorization(credential: Credential | undefined): string | undefined {
  if (credential?.username === undefined || credential.password === undefined) return undefined;
  return `Basic ${Buffer.from(`${credential.username}:${credential.password}`).toString("base64")}`;
}

export class Authorizer {
  #challenge: Challenge;
  readonly #tokens = new Map<string, Promise<CachedToken>>();
  readonly #options: AuthorizerOptions;

  constructor(options: AuthorizerOptions) {
    this.#options = options;
    this.#challenge = options.challenge;
  }

  /**
   * Sends `request` through the redirect layer, with the Authorization header on the registry's own origin
   * only: an upload Location or a redirect elsewhere (object storage) gets none. A 401 from the registry
   * renews the token and, for a body that can be sent again, sends once more; a 401 from another origin
   * changes nothing of the login. `renewable`: a 401 after which a new token was fetched but the body (a
   * stream) could not be sent again; the step can, by starting over.
   */
  async send(request: AuthorizedRequest): Promise<{ response: HttpResponse; url: URL; renewable?: boolean }> {
    const { registry, transport } = this.#options;
    const { scopes, headers, ...rest } = request;
    const replayable = isReplayable(rest.body);
    for (let renewed = false; ; renewed = true) {
      const authorization = await this.#header(scopes);
      const sent = await sendFollowingRedirects(transport, {
        ...rest,
        headersFor: (hop) =>
          authorization && sameOrigin(hop, registry) ? { ...headers, authorization } : headers,
      }).catch((error: unknown) => {
        throw isRequestTimeout(error) ? error.during(request.operation) : error;
      });
      if (sent.response.statusCode !== 401 || !sameOrigin(sent.url, registry)) return sent;
      const worthRetrying = this.#refused(parseChallenge(sent.response.headers["www-authenticate"]), scopes);
      if (!worthRetrying || renewed || !replayable) return { ...sent, renewable: worthRetrying && !renewed };
      await sent.response.dump();
    }
  }

  /** The Authorization header for a request needing `scopes`, or undefined for anonymous access. */
  async #header(scopes: string[]): Promise<string | undefined> {
    const credential = this.#options.credential;
    const challenge = this.#challenge;
    if (challenge.scheme === "basic") return basicAuthorization(credential);
    if (challenge.scheme !== "bearer") return undefined;
    if (credential?.registryToken) return `Bearer ${credential.registryToken}`;
    const key = [...scopes].sort().join(" ");
    const cached = this.#tokens.get(key);
    if (cached) {
      const token = await cached.catch(() => undefined);
      if (token && token.expiresAt - RENEW_EARLY_MS > Date.now()) return `Bearer ${token.token}`;
      // A failed or expiring fetch is replaced, unless a concurrent caller has replaced it already.
      if (this.#tokens.get(key) !== cached) return this.#header(scopes);
    }
    // The fetch itself is cached: blobs pushed at once share one token request.
    const fetching = this.#fetchToken(challenge, scopes);
    this.#tokens.set(key, fetching);
    return `Bearer ${(await fetching).token}`;
  }

  /**
   * A request was refused with 401 and this challenge: forget the cached token (it expired or lacks a
   * scope) so the next header fetches a new one. Returns whether trying again can help.
   */
  #refused(challenge: Challenge, scopes: string[]): boolean {
    if (challenge.scheme === "none") return false;
    const hadToken = this.#tokens.delete([...scopes].sort().join(" "));
    const schemeChanged = challenge.scheme !== this.#challenge.scheme;
    this.#challenge = challenge;
    return hadToken || schemeChanged;
  }

  async #fetchToken(
    challenge: Extract<Challenge, { scheme: "bearer" }>,
    scopes: string[],
  ): Promise<CachedToken> {
    const { credential, host, registry } = this.#options;
    let url: URL;
    try {
      url = new URL(challenge.realm);
    } catch {
      throw new ProtocolError(
        "bad-response",
        `the registry ${host} names a token realm that is not a URL; refused`,
      );
    }
    const withCredentials =
      credential?.identityToken !== undefined ||
      (credential?.username !== undefined && credential.password !== undefined);
    checkRealm(url, registry, host, withCredentials);
    const headers: Record<string, string> = { "user-agent": this.#options.userAgent };
    let method: HttpMethod = "GET";
    let body: string | undefined;
    if (credential?.identityToken) {
      // OAuth2 refresh-token grant (docker config `identitytoken`).
      method = "POST";
      headers["content-type"] = "application/x-www-form-urlencoded";
      const form = new URLSearchParams({
        grant_type: "refresh_token",
        refresh_token: credential.identityToken,
        client_id: "buildx-step",
      });
      if (challenge.service) form.set("service", challenge.service);
      if (scopes.length) form.set("scope", scopes.join(" "));
      body = form.toString();
    } else {
      if (challenge.service) url.searchParams.set("service", challenge.service);
      for (const scope of scopes) url.searchParams.append("scope", scope);
      const login = basicAuthorization(credential);
      if (login) headers.authorization = login;
    }
    const operation = `login to ${host} (token from ${describeUrl(url)})`;
    // Redirects of the token server are followed like the registry's: no downgrade to http, and the
    // login only on the realm's own origin.
    const { response } = await sendFollowingRedirects(this.#options.transport, {
      operation,
      url,
      method,
      headersFor: (hop) => {
        if (sameOrigin(hop, url)) return headers;
        const { authorization: _login, ...others } = headers;
        return others;
      },
      body,
      signal: this.#options.signal,
    });
    const text = await response.text(response.statusCode === 200 ? "token" : "error", operation);
    if (response.statusCode === 401 || response.statusCode === 403) {
      const who = credential?.username
        ? `the credentials of user "${credential.username}"`
        : "anonymous access";
      throw new RegistryHttpError(operation, response.statusCode, parseErrorBody(text), {
        hint: `the token server refused ${who}`,
        login: host,
      });
    }
    if (response.statusCode !== 200) {
      throw new RegistryHttpError(operation, response.statusCode, parseErrorBody(text), {
        retryAfterMs: parseRetryAfter(response.headers["retry-after"]),
      });
    }
    let parsed: { token?: string; access_token?: string; expires_in?: number };
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new ProtocolError("bad-response", `${operation}: the token server's answer is not JSON`);
    }
    const token = parsed.token ?? parsed.access_token;
    if (!token)
      throw new ProtocolError("bad-response", `${operation}: the token server's answer has no token`);
    this.#options.onSecret?.(token);
    const lifetime = typeof parsed.expires_in === "number" ? parsed.expires_in : DEFAULT_TOKEN_LIFETIME_S;
    return { token, expiresAt: Date.now() + lifetime * 1000 };
  }
}
