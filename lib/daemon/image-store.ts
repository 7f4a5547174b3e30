/**
 * Which image store the engine keeps images in. It decides whether a push through the engine publishes
 * the tarball's bytes: the containerd store keeps the compressed layers and manifests it loaded and pushes
 * them as they are; the classic store (graph drivers such as overlay2) keeps only unpacked layers and
 * compresses them again on push, so the registry serves another manifest digest.
 * https://docs.docker.com/engine/storage/containerd/
 */
import type Dockerode from "dockerode";
import { type Engine, engineRequest } from "./engine.js";

export type ImageStore = "containerd" | "classic";

/** The fields of `GET /info` this reads. */
export interface EngineInfo {
  Driver?: string;
  DriverStatus?: [string, string][] | null;
  ServerVersion?: string;
}

/** Pure: the containerd store reports `driver-type: io.containerd.snapshotter.v1` in DriverStatus. */
export function imageStoreOf(info: EngineInfo): ImageStore {
  const containerd = (info.DriverStatus ?? []).some(
    ([key, value]) => key === "driver-type" && value.startsWith("io.containerd.snapshotter"),
  );
  return containerd ? "containerd" : "classic";
}

export interface EngineFacts {
  store: ImageStore;
  driver: string;
  version: string;
}

/** Asks the engine what it is; the first request of a run, so an engine that is down fails here. */
export async function engineFacts(engine: Engine): Promise<EngineFacts> {
  const info = (await engineRequest(engine, "reading the engine's info", () =>
    (engine.docker as Dockerode).info(),
  )) as EngineInfo;
  return {
    store: imageStoreOf(info),
    driver: info.Driver ?? "unknown",
    version: info.ServerVersion ?? "unknown",
  };
}
