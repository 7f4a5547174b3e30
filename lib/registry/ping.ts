/**
 * Finding the registry, before the client's layers are stacked (client.ts): `GET /v2/` on each URL the
 * registry may answer at (HTTPS first; plain HTTP only where allowed), retried with the registry's
 * policy; the one that answers 200 or 401 is the origin the credentials belong to, and a 401's
 * `WWW-Authenticate` is the challenge the auth layer answers (distribution spec, "Determining support").
 */
import { messageOf } from "../errors.js";
import { ProtocolError } from "../protocol-error.js";
import { type Challenge, parseChallenge } from "./challenge.js";
import type { RegistryClientOptions } from "./client.js";
import { parseErrorBody, RegistryHttpError } from "./errors.js";
import { parseRetryAfter, type RetryPolicy, withRetry } from "./retry.js";
import { isRequestTimeout } from "./timeouts.js";
import { candidateBaseUrls, type HttpTransport } from "./transport.js";

/** TLS errors that mean "the certificate is not trusted": the modes name the settings that fix them. */
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

/** The URL where the registry at `endpoint` answers `/v2/`, and its auth challenge. */
export async function pingRegistry(
  transport: HttpTransport,
  endpoint: string,
  options: Pick<RegistryClientOptions, "host" | "insecure" | "caFile" | "signal" | "onRetry"> & {
    userAgent: string;
    policy: RetryPolicy;
  },
): Promise<{ base: URL; challenge: Challenge }> {
  const { policy, signal } = options;
  const candidates = candidateBaseUrls(endpoint, Boolean(options.insecure), options.caFile);
  // By origin: a loopback registry's plain-HTTP URL is tried twice (transport.ts), and said once.
  const failures = new Map<string, string>();
  let untrusted = false;
  for (const [index, base] of candidates.entries()) {
    const last = index === candidates.length - 1;
    try {
      // With a plain-HTTP fallback left, HTTPS gets one attempt: a plain-HTTP server fails it at once.
      // A /v2/ that did not answer within a timeout is not asked again: the registry is down.
      const header = await withRetry(() => ping(transport, base, options.userAgent, signal), {
        policy: last ? { ...policy, timeoutAttempts: 1 } : { ...policy, attempts: 1 },
        signal,
        onRetry: (notice) => options.onRetry?.(`ping ${base.origin}`, notice),
      });
      return { base, challenge: parseChallenge(header) };
    } catch (error) {
      // A registry that answered over HTTPS is final; plain HTTP may be a TLS server answering 400.
      // So is a stopped run, and a timeout: a plain-HTTP server would have refused the TLS handshake
      // at once, not left it unanswered, so trying plain HTTP on the same port cannot help.
      if (isRequestTimeout(error)) throw error.during(`connecting to the registry ${options.host}`);
      if ((error instanceof RegistryHttpError && base.protocol === "https:") || signal?.aborted) throw error;
      untrusted ||= CERTIFICATE_ERRORS.test(connectionErrorCode(error) ?? "");
      const proxy = transport.proxyFor(base);
      const through = proxy ? ` (through the proxy ${proxy.display} from ${proxy.variable})` : "";
      failures.set(
        base.origin,
        `${base.origin}${through}: ${error instanceof RegistryHttpError ? error.message : describeConnectionError(error)}`,
      );
    }
  }
  throw new ProtocolError(
    untrusted ? "untrusted-certificate" : "unreachable",
    `cannot reach the registry ${options.host}: ${[...failures.values()].join("; ")}`,
  );
}

/** One `GET /v2/`: the challenge of a 401 (none for a 200), or the registry's refusal. */
async function ping(
  transport: HttpTransport,
  base: URL,
  userAgent: string,
  signal: AbortSignal | undefined,
): Promise<string | string[] | undefined> {
  const response = await transport.request({
    url: new URL("/v2/", base),
    method: "GET",
    headers: { "user-agent": userAgent },
    signal,
    answerWithinConnect: base.protocol === "http:",
  });
  const text = await response.text("ping", `${base.origin}/v2/`);
  if (response.statusCode === 200) return undefined;
  if (response.statusCode === 401) return response.headers["www-authenticate"];
  throw new RegistryHttpError(`${base.origin}/v2/`, response.statusCode, parseErrorBody(text), {
    retryAfterMs: parseRetryAfter(response.headers["retry-after"]),
    hint: response.statusCode === 404 ? "this is not an OCI distribution (v2) registry" : undefined,
  });
}
