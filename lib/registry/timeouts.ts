/**
 * The two per-request deadlines of the registry client (the third, for the whole push, is the run's:
 * PLUGIN_PUSH_TIMEOUT, lib/modes/push-deadline.ts). A registry that accepts TCP and never answers kept a
 * push running 901 s (issue 11.8): the TLS handshake was not covered by the idle timer.
 *
 * - connect: from the request's start until its connection is ready: TCP connect, the proxy's CONNECT
 *   where one is used, and the TLS handshake. Docker's and Go's dialers give 30 s to connect.
 * - no progress: no byte sent or received on the request's connection for this long, while the request
 *   is sent, while its answer is awaited and while its body is read. Long enough for a registry that
 *   finishes a multi-gigabyte blob (object storage copies it) before it answers the final PUT.
 */
import { ProtocolError } from "../protocol-error.js";

export interface Timeouts {
  connectMs: number;
  noProgressMs: number;
}

export const DEFAULT_TIMEOUTS: Timeouts = { connectMs: 30_000, noProgressMs: 120_000 };

/** A per-request deadline fired. `code` is ETIMEDOUT, as Node's own, so retries treat it as a broken connection. */
class RequestTimeoutError extends ProtocolError {
  readonly code = "ETIMEDOUT";
  readonly which: "connect" | "no-progress";
  constructor(which: "connect" | "no-progress", message: string) {
    super("timed-out", message);
    this.name = "RequestTimeoutError";
    this.which = which;
  }

  /** The same error with what the request did in front: "check of blob …: no answer from …". */
  during(operation: string): RequestTimeoutError {
    return new RequestTimeoutError(this.which, `${operation}: ${this.message}`);
  }
}

export function connectTimeout(host: string, ms: number, proxy?: string): RequestTimeoutError {
  return new RequestTimeoutError(
    "connect",
    `no answer from ${host} within the ${ms / 1000} s connect timeout (TCP connect and TLS handshake${proxy ? `, through the proxy ${proxy}` : ""}); the registry is down, or a firewall drops the traffic`,
  );
}

export function noProgressTimeout(host: string, ms: number): RequestTimeoutError {
  return new RequestTimeoutError(
    "no-progress",
    `no byte sent to or received from ${host} for ${ms / 1000} s (the no-progress timeout); the connection or the registry hangs`,
  );
}

export function isRequestTimeout(error: unknown): error is RequestTimeoutError {
  return error instanceof RequestTimeoutError;
}
