/**
 * `docker load` through the engine API: the tarball is streamed from disk into the request (never held in
 * memory), and the engine's answer says what it loaded: `Loaded image: NAME` for each name recorded in
 * the tarball, `Loaded image ID: sha256:…` for an image without one.
 * https://docs.docker.com/reference/api/engine/version/v1.45/#tag/Image/operation/ImageLoad
 */
import { createReadStream } from "node:fs";
import type { Engine } from "../engine/engine.js";
import { asEngineFailure } from "../engine/failure.js";
import type { ProgressEvent, ProgressSink } from "../progress/events.js";
import { formatBytes } from "../progress/format.js";
import { ProtocolError } from "../protocol-error.js";
import { SHA256_DIGEST_TEXT } from "../reference/digest.js";
import { EngineStreamError, type JsonMessage, readJsonMessages } from "./json-messages.js";

export interface LoadedImages {
  /** Names the engine gave the loaded images (`repo:tag`, as the engine prints them). */
  names: string[];
  /** Image IDs of loaded images that have no name. */
  ids: string[];
}

const LOADED_NAME = /^Loaded image: (.+)$/;
const LOADED_ID = new RegExp(`^Loaded image ID: (${SHA256_DIGEST_TEXT})$`);

/** Pure: adds what one message of the load stream reports to `loaded`. */
export function collectLoaded(message: JsonMessage, loaded: LoadedImages): void {
  for (const line of (message.stream ?? "").split("\n")) {
    const text = line.trim();
    const name = LOADED_NAME.exec(text)?.[1];
    if (name && !loaded.names.includes(name)) loaded.names.push(name);
    const id = LOADED_ID.exec(text)?.[1];
    if (id && !loaded.ids.includes(id)) loaded.ids.push(id);
  }
}

/**
 * The classic store unpacks each layer as it loads and reports "Loading layer" with byte counts; one line
 * per layer is enough (the renderer's blob events mean "sent to a registry", which a load is not).
 * The containerd store reports nothing until the end.
 */
export class LoadProgress {
  private readonly finished = new Set<string>();

  events(message: JsonMessage): ProgressEvent[] {
    const { id, status, progressDetail } = message;
    if (!id || status !== "Loading layer" || this.finished.has(id)) return [];
    const { current, total } = progressDetail ?? {};
    if (typeof current !== "number" || typeof total !== "number" || current < total) return [];
    this.finished.add(id);
    return [{ type: "message", text: `${id}: layer loaded (${formatBytes(total)})` }];
  }
}

/**
 * Loads the tarball at `file` (named `path` in messages) into the engine. A tarball the engine refuses is
 * an `engine-refused` failure with its words.
 */
export async function loadTarball(
  engine: Engine,
  file: string,
  progress: ProgressSink,
  path: string = file,
  /** Stops the load: the request is cut, and the engine drops what it had not finished loading. */
  signal?: AbortSignal,
): Promise<LoadedImages> {
  const loaded: LoadedImages = { names: [], ids: [] };
  const events = new LoadProgress();
  const refused = (detail: string) =>
    new ProtocolError(
      "engine-refused",
      `the engine at ${engine.address.display} did not load ${path}: ${detail}`,
    );
  // 1 MiB reads: a quarter fewer syscalls and socket writes than the 64 KiB default on a big
  // tarball; memory stays a few chunks whatever the tarball's size (the request applies backpressure).
  const stream = createReadStream(file, { highWaterMark: 1024 * 1024 });
  try {
    const response = await (await engine.client()).loadImage(stream, {
      quiet: false,
      ...(signal ? { abortSignal: signal } : {}),
    });
    await readJsonMessages(response, (message) => {
      collectLoaded(message, loaded);
      // The "Loaded image" lines are reported by the caller, which knows which of them it pushes.
      if (message.stream) return;
      for (const event of events.events(message)) progress(event);
    });
  } catch (error) {
    stream.destroy();
    if (signal?.aborted) throw signal.reason;
    if (error instanceof EngineStreamError) throw refused(error.message);
    const failure = asEngineFailure(engine, `loading ${path}`, error);
    if (failure instanceof ProtocolError && failure.message.startsWith("loading ")) {
      throw refused(failure.message.replace(/^.*? answered: /, ""));
    }
    throw failure;
  }
  if (loaded.names.length === 0 && loaded.ids.length === 0) {
    throw refused(
      "the engine reported no image loaded: check that the file is an image tarball (docker save, or buildx --output type=docker)",
    );
  }
  return loaded;
}
