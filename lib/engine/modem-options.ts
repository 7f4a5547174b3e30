/**
 * The `docker-modem` options for an engine address (address.ts). dockerode has its own reading of the
 * environment (it prefers `~/.docker/run/docker.sock`, turns on TLS only for `DOCKER_TLS_VERIFY=1` or port
 * 2376, and reads no default cert path): the options built here set every connection key, so none of it
 * remains. Loaded with dockerode only (node:https for TLS costs ~15 ms of start-up).
 */
import { readFileSync } from "node:fs";
import { Agent as HttpsAgent } from "node:https";
import { join } from "node:path";
import { ProtocolError } from "../protocol-error.js";
import type { EngineAddress } from "./address.js";

/** What `new Dockerode(...)` is given: every connection key, set or explicitly undefined. */
interface ModemOptions {
  socketPath?: string;
  host?: string;
  port?: number;
  protocol?: "http" | "https" | "ssh";
  username?: string;
  ca?: string;
  cert?: Buffer;
  key?: Buffer;
  agent?: HttpsAgent;
  sshOptions?: Record<string, unknown>;
}

function readTlsFile(certPath: string, name: string, required: boolean): Buffer | undefined {
  const file = join(certPath, name);
  try {
    return readFileSync(file);
  } catch (error) {
    if (!required && (error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw new ProtocolError(
      "unreadable-file",
      `cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? error}): DOCKER_TLS_VERIFY needs the engine's CA as ca.pem in DOCKER_CERT_PATH (default ~/.docker)`,
    );
  }
}

/** Reads the TLS files an address needs and returns the options for `new Dockerode(...)`. */
export function modemOptions(address: EngineAddress, env: NodeJS.ProcessEnv): ModemOptions {
  const base: ModemOptions = {
    socketPath: undefined,
    host: undefined,
    port: undefined,
    protocol: undefined,
    username: undefined,
    ca: undefined,
    cert: undefined,
    key: undefined,
    agent: undefined,
  };
  if (address.kind === "unix") return { ...base, socketPath: address.socketPath };
  if (address.kind === "ssh") {
    return {
      ...base,
      host: address.host,
      port: address.port,
      protocol: "ssh",
      username: address.username,
      sshOptions: { agent: env.SSH_AUTH_SOCK },
    };
  }
  if (!address.tls || !address.certPath) {
    return { ...base, host: address.host, port: address.port, protocol: "http" };
  }
  const ca = readTlsFile(address.certPath, "ca.pem", address.verify);
  const cert = readTlsFile(address.certPath, "cert.pem", false);
  const key = readTlsFile(address.certPath, "key.pem", false);
  // docker-modem passes ca/cert/key but no `rejectUnauthorized`: an agent carries the TLS settings.
  const agent = new HttpsAgent({
    ca: address.verify ? ca : undefined,
    cert,
    key,
    rejectUnauthorized: address.verify,
    keepAlive: false,
  });
  return { ...base, host: address.host, port: address.port, protocol: "https", agent };
}
