/**
 * What the engine is (`GET /info`): image store, storage driver, version. The containerd store keeps the
 * compressed layers and manifests it loaded and pushes them as they are; the classic store (overlay2 ...)
 * compresses them again on push, so the registry serves another digest, and a tarball build on the engine's
 * own builder cannot write every format (buildx/exporter-support.ts).
 * https://docs.docker.com/engine/storage/containerd/
 * Over a unix socket or plain TCP (the common case) the request is written by hand, so that a build asks
 * without loading dockerode and its ssh2 (~0.4 s of CPU) or node's HTTP client (~25 ms).
 */
import { connect } from "node:net";
import { ProtocolError } from "../protocol-error.js";
import type { EngineAddress } from "./address.js";
import type { Engine } from "./engine.js";
import { asEngineFailure, engineUnreachable } from "./failure.js";

type ImageStore = "containerd" | "classic";

/** The fields of `GET /info` this reads. */
export interface EngineInfo {
  Driver?: unknown;
  DriverStatus?: unknown;
  ServerVersion?: unknown;
}

export interface EngineFacts {
  store: ImageStore;
  driver: string;
  /** The engine's version, e.g. `26.1.5`. */
  version: string;
}

/** Pure: the containerd store reports `driver-type: io.containerd.snapshotter.v1` in DriverStatus. */
export function imageStoreOf(info: EngineInfo): ImageStore {
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

/** Where a hand-spoken request goes: a unix socket or plain TCP; undefined for TLS and ssh. Pure. */
export function plainHttpTarget(
  address: EngineAddress,
): { socketPath: string } | { host: string; port: number } | undefined {
  if (address.kind === "unix" && address.socketPath) return { socketPath: address.socketPath };
  if (address.kind === "tcp" && !address.tls && address.host && address.port) {
    return { host: address.host, port: address.port };
  }
  return undefined;
}

/**
 * `GET /info` as one HTTP/1.0 exchange on a plain socket: the engine then answers with a body that
 * ends with the connection (no chunked encoding), and no HTTP client has to be loaded.
 */
function getInfo(address: EngineAddress, target: { socketPath: string } | { host: string; port: number }) {
  return new Promise<EngineInfo>((resolve, reject) => {
    const socket = "socketPath" in target ? connect({ path: target.socketPath }) : connect(target);
    const chunks: Buffer[] = [];
    socket.setTimeout(30_000, () => socket.destroy(new Error("no answer within 30 s")));
    // `write`, not `end`: the engine reads a half-closed connection as a cancelled request (body `null`).
    socket.on("connect", () => socket.write("GET /info HTTP/1.0\r\nHost: docker\r\n\r\n"));
    socket.on("end", () => socket.end());
    socket.on("data", (chunk: Buffer) => chunks.push(chunk));
    socket.on("error", (error) => reject(engineUnreachable(address, error)));
    socket.on("close", (hadError) => {
      if (hadError) return;
      const text = Buffer.concat(chunks).toString("utf8");
      const split = text.indexOf("\r\n\r\n");
      const status = /^HTTP\/1\.[01] (\d{3})/.exec(text)?.[1];
      const body = split < 0 ? "" : text.slice(split + 4);
      if (status !== "200") {
        const said = `${status ?? "no HTTP"} to /info: ${body.trim()}`;
        reject(new ProtocolError("engine-refused", `the engine at ${address.display} answered ${said}`));
        return;
      }
      try {
        const info = JSON.parse(body) as unknown;
        if (typeof info !== "object" || info === null) throw new Error("not an object");
        resolve(info as EngineInfo);
      } catch {
        reject(
          new ProtocolError("bad-response", `the engine at ${address.display} answered /info with no JSON`),
        );
      }
    });
  });
}

/** Asks the engine what it is; the first request of a run, so an engine that is down fails here. */
export async function engineFacts(engine: Engine): Promise<EngineFacts> {
  const target = plainHttpTarget(engine.address);
  const info: EngineInfo = target
    ? await getInfo(engine.address, target)
    : await (await engine.client()).info().catch((error) => {
        throw asEngineFailure(engine, "reading the engine's info", error);
      });
  return {
    store: imageStoreOf(info),
    driver: typeof info.Driver === "string" ? info.Driver : "unknown",
    version: typeof info.ServerVersion === "string" ? info.ServerVersion : "unknown",
  };
}
