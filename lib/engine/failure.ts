/**
 * The engine's failures in words a user can act on: a connection that did not happen (with the address and
 * what to do), or the engine's own message. For dockerode's errors and the hand-spoken `/info` (info.ts)
 * alike; no dockerode here.
 */
import { StepFailure, UsageError } from "../errors.js";
import { ProtocolError } from "../protocol-error.js";
import type { EngineAddress } from "./address.js";

/** What docker-modem rejects with: a socket error (`code`), or an HTTP error (`statusCode`, `json`). */
interface ModemError extends Error {
  code?: string;
  statusCode?: number;
  json?: unknown;
}

/** Errors of the connection itself, before the engine said anything. */
const CONNECTION_CODES = new Set([
  "ENOENT",
  "ECONNREFUSED",
  "EACCES",
  "EPERM",
  "ECONNRESET",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EPIPE",
  "ENOTSOCK",
]);

/** OpenSSL's and Node's codes for a TLS handshake that failed (untrusted certificate, wrong name, not TLS). */
const TLS_CODES = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER|^ERR_TLS|^ERR_SSL|^EPROTO$/;

export function isConnectionError(error: unknown): boolean {
  const code = (error as ModemError | undefined)?.code;
  return typeof code === "string" && (CONNECTION_CODES.has(code) || TLS_CODES.test(code));
}

/** The failure for an engine that does not answer: names the address and how to get one. */
export function engineUnreachable(address: EngineAddress, error: unknown): ProtocolError {
  const code = (error as ModemError).code ?? "";
  const tls = TLS_CODES.test(code);
  // `connect ENOENT`, as the socket error reads; a TLS or reset error happens after the connect.
  const verb = tls || code === "ECONNRESET" ? "" : "connect ";
  let hint = "start dockerd, or set DOCKER_HOST to the engine's address";
  if (code === "EACCES" || code === "EPERM") {
    hint = `this user may not open ${address.socketPath ?? address.display}: run as root or as a member of the docker group, or set DOCKER_HOST`;
  } else if (tls) {
    hint = `check DOCKER_TLS_VERIFY and DOCKER_CERT_PATH (ca.pem, cert.pem, key.pem${address.certPath ? ` in ${address.certPath}` : ""}) against the engine's TLS setup`;
  }
  return new ProtocolError(
    "unreachable",
    `cannot reach the Docker engine at ${address.display} (${verb}${code || (error as Error).message}): ${hint}`,
    { cause: error },
  );
}

/** The engine's own words in a failed request: its JSON `message`, else what docker-modem made of it. */
export function engineMessage(error: unknown): string {
  const modemError = error as ModemError;
  const json = modemError?.json as { message?: unknown } | undefined;
  if (json && typeof json === "object" && typeof json.message === "string") return json.message.trim();
  if (typeof modemError?.json === "string" && modemError.json.trim()) return modemError.json.trim();
  return (modemError?.message ?? String(error)).trim();
}

export function httpStatusOf(error: unknown): number | undefined {
  const status = (error as ModemError | undefined)?.statusCode;
  return typeof status === "number" ? status : undefined;
}

export function asEngineFailure(engine: { address: EngineAddress }, what: string, error: unknown): Error {
  if (error instanceof StepFailure || error instanceof UsageError || error instanceof ProtocolError)
    return error;
  if (isConnectionError(error)) return engineUnreachable(engine.address, error);
  return new ProtocolError(
    "engine-refused",
    `${what}: the engine at ${engine.address.display} answered: ${engineMessage(error)}`,
    {
      cause: error,
    },
  );
}
