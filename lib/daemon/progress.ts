/**
 * The engine's progress messages as the project's {@link ProgressEvent}s, so the same renderer shows a
 * push through the engine and a push through the registry API. Statuses are those of moby's
 * distribution/xfer code ("Preparing", "Waiting", "Pushing", "Pushed", "Layer already exists",
 * "Mounted from …").
 */
import type { ProgressEvent } from "../progress/events.js";
import { SHA256_DIGEST_TEXT } from "../reference/digest.js";
import type { JsonMessage } from "./json-messages.js";

/** Pure: blob sizes by the short id the engine prints (the first 12 hex digits of the digest). */
export function sizesByShortId(blobs: readonly { digest: string; size: number }[]): Map<string, number> {
  return new Map(blobs.map((blob) => [blob.digest.replace(/^sha256:/, "").slice(0, 12), blob.size]));
}

/** `TAG: digest: sha256:… size: N`: the line the engine writes once the manifest is pushed. */
const PUSHED_DIGEST = new RegExp(`^(\\S+): digest: (${SHA256_DIGEST_TEXT}) size: \\d+`);

/** Pure: the tag and manifest digest a push message reports, from `aux` (classic store) or the status line (containerd store, which sends no `aux`). */
export function pushedDigestOf(message: JsonMessage): { tag?: string; digest: string } | undefined {
  const aux = message.aux;
  if (aux && typeof aux.Digest === "string") {
    return { tag: typeof aux.Tag === "string" ? aux.Tag : undefined, digest: aux.Digest };
  }
  const match = PUSHED_DIGEST.exec(message.status ?? "");
  if (match?.[1] && match[2]) return { tag: match[1], digest: match[2] };
  return undefined;
}

/**
 * Turns messages into events; keeps which layers it has announced, so every layer gets one `blob-start`
 * before its progress and one `blob-done`.
 */
export class EngineProgress {
  private readonly started = new Map<string, number>();
  private readonly done = new Set<string>();

  /**
   * `blobSizes`: sizes by the 12-hex short id the engine shows (the blob digest's, on the containerd
   * store), from the tarball: the containerd store reports no byte counts, so without them every layer
   * would show 0 B.
   */
  constructor(
    private readonly reference: string,
    private readonly blobSizes: ReadonlyMap<string, number> = new Map(),
  ) {}

  events(message: JsonMessage): ProgressEvent[] {
    const status = message.status ?? "";
    const id = message.id;
    if (message.stream?.trim()) return [{ type: "message", text: message.stream.trim() }];
    const pushed = pushedDigestOf(message);
    if (pushed) {
      // The classic store reports the digest twice (status line and aux): one event.
      if (message.aux) return [];
      return [{ type: "manifest", reference: this.reference, digest: pushed.digest }];
    }
    if (!id) return status ? [{ type: "message", text: status }] : [];
    const current = message.progressDetail?.current;
    const reportedTotal = message.progressDetail?.total;
    if (status === "Pushing" && typeof current === "number") {
      // The classic store compresses while it pushes and reports the unpacked size as total, so current
      // can pass it: never show more than 100%.
      const total = Math.max(reportedTotal ?? 0, current, this.started.get(id) ?? 0);
      const out = this.start(id, total);
      out.push({ type: "blob-progress", id, current, total });
      return out;
    }
    if (status === "Pushed") return [...this.start(id, 0), ...this.finish(id, "uploaded")];
    if (status === "Layer already exists") return [...this.start(id, 0), ...this.finish(id, "exists")];
    if (status.startsWith("Mounted from")) return [...this.start(id, 0), ...this.finish(id, "mounted")];
    return [];
  }

  private start(id: string, reported: number): ProgressEvent[] {
    const total = Math.max(reported, this.blobSizes.get(id) ?? 0);
    const known = this.started.get(id);
    if (known !== undefined) {
      if (total > known) this.started.set(id, total);
      return [];
    }
    this.started.set(id, total);
    return [{ type: "blob-start", id, total }];
  }

  private finish(id: string, how: "uploaded" | "exists" | "mounted"): ProgressEvent[] {
    if (this.done.has(id)) return [];
    this.done.add(id);
    return [{ type: "blob-done", id, total: this.started.get(id) ?? 0, how }];
  }
}
