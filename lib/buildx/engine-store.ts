/**
 * Which image store the engine uses, asked before a tarball build on the engine's own `docker` driver
 * (see exporter-support.ts). One `GET /info`: over the unix socket or plain TCP, written by hand
 * (the common case, and cheap: loading dockerode and its ssh2 costs a build ~0.4 s of CPU, node's http
 * client ~25 ms), otherwise through lib/daemon's dockerode client (TLS, ssh).
 *
 * DOCKER_HOST is read here only for the plain cases (unset, `unix://`, `tcp://` without TLS variables);
 * everything else goes to lib/daemon/engine-address.ts, whose import (node:https for TLS) costs ~15 ms.
 *
 * `docker info` shows the containerd store as `DriverStatus: [["driver-type", "io.containerd.snapshotter.v1"]]`
 * (storage driver `overlayfs`); the classic store lists its graph driver's status (`overlay2`) instead.
 * https://docs.docker.com/engine/storage/containerd/
 */
import { connect } from "node:net";
import { StepFailure } from "../errors.js";

export type ImageStore = "containerd" | "classic";

export interface EngineStore {
  store: ImageStore;
  /** The engine's version, e.g. `26.1.5`. */
  version: string;
}

interface InfoBody {
  DriverStatus?: unknown;
  ServerVersion?: unknown;
}

/** The store an engine's `/info` describes. Pure. */
export function imageStoreOf(info: InfoBody): ImageStore {
  const status = Array.isArray(info.DriverStatus) ? (info.DriverStatus as unknown[]) : [];
  const containerd = status.some(
    (pair) =>
      Array.isArray(pair) &&
      pair[0] === "driver-type" &&
      typeof pair[1] === "string" &&
      pair[1].startsWith("io.containerd.snapshotter"),
  );
  return containerd ? "containerd" : "classic";
}

/**
 * `GET /info` as one HTTP/1.0 exchange on a plain socket: the engine then answers with a body that
 * ends with the connection (no chunked encoding), and no HTTP client has to be loaded.
 */
function getInfo(
  target: { socketPath?: string; host?: string; port?: number },
  display: string,
): Promise<InfoBody> {
  return new Promise((resolve, reject) => {
    const socket = target.socketPath
      ? connect({ path: target.socketPath })
      : connect({ host: target.host as string, port: target.port as number });
    const chunks: Buffer[] = [];
    socket.setTimeout(30_000, () => socket.destroy(new Error("no answer within 30 s")));
    // `write`, not `end`: the engine reads a half-closed connection as a cancelled request (body `null`).
    socket.on("connect", () => socket.write("GET /info HTTP/1.0\r\nHost: docker\r\n\r\n"));
    socket.on("end", () => socket.end());
    socket.on("data", (chunk: Buffer) => chunks.push(chunk));
    socket.on("error", (error: NodeJS.ErrnoException) =>
      reject(
        new StepFailure(
          `cannot reach the Docker engine at ${display} (${error.code ?? error.message}): start dockerd, or set DOCKER_HOST to the engine's address`,
          { cause: error },
        ),
      ),
    );
    socket.on("close", (hadError) => {
      if (hadError) return;
      const text = Buffer.concat(chunks).toString("utf8");
      const split = text.indexOf("\r\n\r\n");
      const status = /^HTTP\/1\.[01] (\d{3})/.exec(text)?.[1];
      const body = split < 0 ? "" : text.slice(split + 4);
      if (status !== "200") {
        reject(
          new StepFailure(
            `the engine at ${display} answered ${status ?? "no HTTP"} to /info: ${body.trim()}`,
          ),
        );
        return;
      }
      try {
        const info = JSON.parse(body) as unknown;
        if (typeof info !== "object" || info === null) throw new Error("not an object");
        resolve(info as InfoBody);
      } catch {
        reject(new StepFailure(`the engine at ${display} answered /info with no JSON`));
      }
    });
  });
}

/** Where a plain DOCKER_HOST points, or undefined when lib/daemon must read it (TLS, ssh, other forms). */
export function plainEngineTarget(
  env: NodeJS.ProcessEnv,
): { socketPath?: string; host?: string; port?: number; display: string } | undefined {
  if (env.DOCKER_TLS_VERIFY || env.DOCKER_TLS) return undefined;
  const raw = (env.DOCKER_HOST ?? "").trim() || "unix:///var/run/docker.sock";
  if (raw.startsWith("unix://") && raw.length > "unix://".length) {
    return { socketPath: raw.slice("unix://".length), display: raw };
  }
  const tcp = /^tcp:\/\/([^/:\s]+):(\d+)\/?$/.exec(raw);
  if (tcp) return { host: tcp[1], port: Number(tcp[2]), display: raw };
  return undefined;
}

export async function engineStore(env: NodeJS.ProcessEnv): Promise<EngineStore> {
  const target = plainEngineTarget(env);
  if (!target) {
    const [{ connectEngine }, { engineFacts }] = await Promise.all([
      import("../daemon/engine.js"),
      import("../daemon/image-store.js"),
    ]);
    const facts = await engineFacts(connectEngine(env));
    return { store: facts.store, version: facts.version };
  }
  const { display, ...where } = target;
  const info = await getInfo(where, display);
  return {
    store: imageStoreOf(info),
    version: typeof info.ServerVersion === "string" ? info.ServerVersion : "unknown",
  };
}
