/**
 * Where the Docker engine answers, read from the environment the way the docker CLI reads it, so that
 * this tool talks to the same engine `docker` would:
 * - `DOCKER_HOST` (`unix://PATH`, `tcp://HOST:PORT`, `ssh://USER@HOST`, or a bare `HOST:PORT` meaning tcp);
 *   unset: `unix:///var/run/docker.sock`.
 * - `DOCKER_TLS_VERIFY` (any non-empty value): TLS, verifying the engine against `ca.pem`;
 *   `DOCKER_TLS` (non-empty): TLS without verification; the client certificate `cert.pem`/`key.pem` and
 *   `ca.pem` are read from `DOCKER_CERT_PATH` (default `~/.docker`).
 * https://docs.docker.com/reference/cli/docker/#environment-variables
 *
 * The one reading of these variables: the hand-spoken `/info` (info.ts) and dockerode (modem-options.ts)
 * both start from the address parsed here. No TLS or HTTP module is imported, so a build can afford it.
 */
import { homedir } from "node:os";
import { join } from "node:path";
import { ProtocolError } from "../protocol-error.js";

const DEFAULT_DOCKER_HOST = "unix:///var/run/docker.sock";

/** The engine's address as the user would recognise it, and how to reach it. */
export interface EngineAddress {
  /** e.g. `unix:///var/run/docker.sock`, `tcp://10.0.0.5:2376`: for messages. */
  display: string;
  kind: "unix" | "tcp" | "ssh";
  socketPath?: string;
  host?: string;
  port?: number;
  tls: boolean;
  /** TLS: verify the engine's certificate against `ca`. */
  verify: boolean;
  /** The folder the TLS files are read from (for messages). */
  certPath?: string;
  /** ssh: the user in the URL. */
  username?: string;
}

/** Parses the engine's address from the environment. Pure; throws `invalid-address` for an address it cannot use. */
export function engineAddressFromEnv(env: NodeJS.ProcessEnv): EngineAddress {
  const raw = (env.DOCKER_HOST ?? "").trim() || DEFAULT_DOCKER_HOST;
  const verify = Boolean(env.DOCKER_TLS_VERIFY);
  const tls = verify || Boolean(env.DOCKER_TLS);
  const certPath = tls ? env.DOCKER_CERT_PATH || join(env.HOME || homedir(), ".docker") : undefined;

  if (raw.startsWith("unix://")) {
    const socketPath = raw.slice("unix://".length) || "/var/run/docker.sock";
    return { display: `unix://${socketPath}`, kind: "unix", socketPath, tls: false, verify: false };
  }
  if (raw.startsWith("npipe://")) {
    throw new ProtocolError(
      "invalid-address",
      `DOCKER_HOST=${raw}: named pipes exist only on Windows; give unix:// or tcp://`,
    );
  }
  // The CLI reads a bare `host:port` as tcp (opts.ParseHost).
  const withScheme = raw.includes("://") ? raw : `tcp://${raw}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw new ProtocolError(
      "invalid-address",
      `DOCKER_HOST=${raw} is not an engine address: use unix:///path/to/docker.sock or tcp://host:port`,
    );
  }
  const hostname = url.hostname.replace(/^\[(.*)\]$/, "$1");
  if (url.protocol === "ssh:") {
    if (!hostname) throw new ProtocolError("invalid-address", `DOCKER_HOST=${raw} names no host`);
    return {
      display: raw,
      kind: "ssh",
      host: hostname,
      port: url.port ? Number(url.port) : 22,
      username: url.username || undefined,
      tls: false,
      verify: false,
    };
  }
  if (url.protocol !== "tcp:" && url.protocol !== "http:" && url.protocol !== "https:") {
    throw new ProtocolError(
      "invalid-address",
      `DOCKER_HOST=${raw}: the scheme ${url.protocol}// is not one the engine answers on`,
    );
  }
  if (!hostname) throw new ProtocolError("invalid-address", `DOCKER_HOST=${raw} names no host`);
  // The CLI's default ports: 2376 with TLS, 2375 without.
  const port = url.port ? Number(url.port) : tls ? 2376 : 2375;
  return {
    display: `tcp://${url.host.replace(/:\d+$/, "")}:${port}`,
    kind: "tcp",
    host: hostname,
    port,
    tls,
    verify,
    certPath,
  };
}

/** Whether the engine runs on this machine (a unix socket). An address that cannot be parsed is not local. */
export function engineIsLocal(env: NodeJS.ProcessEnv): boolean {
  try {
    return engineAddressFromEnv(env).kind === "unix";
  } catch {
    return false;
  }
}
