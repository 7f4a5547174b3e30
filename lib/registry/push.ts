/**
 * Writes one image into a repository: every blob first (several at once; skipped when the registry
 * has it), then the manifests, children before the index, then the tags. A tag is written only after
 * everything it points to is in place, so a push that fails before the tags publishes nothing; and no
 * blob is completed or mounted before every blob to be sent or mounted has been read and checked against
 * its digest (those the registry already has are not read: it serves its own copy), so a corrupted
 * tarball leaves no trace.
 */
import type { Readable } from "node:stream";
import type { Descriptor, PushPlan } from "../archive/types.js";
import { messageOf } from "../errors.js";
import { ignoreProgress, type ProgressSink } from "../progress/events.js";
import { formatBytes } from "../progress/format.js";
import { ProtocolError } from "../protocol-error.js";
import { type ManifestWriteContext, writeManifest } from "./manifest-write.js";
import type { RepositoryClient, StagedUpload } from "./repository.js";
import { verifyBlob } from "./verify.js";

/**
 * What phase 2 does for a blob the registry lacks. A small blob's upload session is opened in phase 1,
 * while its bytes are verified: one round trip less per blob, and nothing visible until its PUT.
 */
type BlobAction =
  | { kind: "commit"; upload: StagedUpload }
  | { kind: "mount"; from: string }
  | { kind: "upload"; opened: string | undefined };

/** The upload session an action holds open (cancelled when the push fails before using it). */
function openSession(action: BlobAction): string | undefined {
  return action.kind === "commit"
    ? action.upload.location
    : action.kind === "upload"
      ? action.opened
      : undefined;
}

interface PushImageOptions {
  repository: RepositoryClient;
  tags: string[];
  plan: PushPlan;
  /** The bytes of a blob of the plan, streamed (called again for each attempt). */
  openBlob: (digest: string) => Readable;
  /** Blobs moved at once. */
  concurrency?: number;
  progress?: ProgressSink;
  signal?: AbortSignal;
}

interface PushImageResult {
  /** The digest the registry serves for every tag: the plan's top manifest. */
  digest: string;
  tags: string[];
  bytesUploaded: number;
  blobsUploaded: number;
  blobsSkipped: number;
  blobsMounted: number;
  /** The plan's foreign layers: not uploaded, the registry serves the manifest that lists their URLs. */
  foreignSkipped: Descriptor[];
}

/** Some tags were written before a failure: says which, since those now point at the new image. */
export class PartialPushError extends ProtocolError {
  readonly tagsWritten: string[];
  constructor(message: string, tagsWritten: string[], cause: unknown) {
    super("partial-push", message, { cause });
    this.name = "PartialPushError";
    this.tagsWritten = tagsWritten;
  }
}

const DEFAULT_CONCURRENCY = 3;

/** A blob's id in progress lines: the first 12 hex digits, as docker shows layers. */
function shortDigest(digest: string): string {
  return digest.replace(/^[a-z0-9]+:/, "").slice(0, 12);
}

/** Runs `work` on every item, at most `limit` at a time; the first failure aborts the rest and is thrown. */
async function forEachLimited<T>(
  items: T[],
  limit: number,
  parent: AbortSignal | undefined,
  work: (item: T, signal: AbortSignal) => Promise<void>,
): Promise<void> {
  const controller = new AbortController();
  const onParentAbort = () => controller.abort(parent?.reason);
  parent?.addEventListener("abort", onParentAbort, { once: true });
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async () => {
    while (!failure && next < items.length) {
      const item = items[next++] as T;
      try {
        await work(item, controller.signal);
      } catch (error) {
        if (!failure) failure = { error };
        controller.abort(error);
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  } finally {
    parent?.removeEventListener("abort", onParentAbort);
  }
  if (failure) throw failure.error;
  if (parent?.aborted) throw parent.reason;
}

/** Cancels the upload sessions that phase 1 opened and nothing has used yet. */
async function cancelOpenSessions(
  repository: RepositoryClient,
  actions: Map<string, BlobAction>,
): Promise<void> {
  await Promise.all(
    [...actions.values()].map((action) => {
      const location = openSession(action);
      return location ? repository.cancelUpload(location) : undefined;
    }),
  );
}

export async function pushImage(options: PushImageOptions): Promise<PushImageResult> {
  const { repository, plan } = options;
  const progress = options.progress ?? ignoreProgress;
  const top = plan.manifests[plan.manifests.length - 1];
  if (!top) throw new ProtocolError("bad-request", "the image has no manifest to push");
  if (options.tags.length === 0) throw new ProtocolError("bad-request", "no tag to push");
  const result: PushImageResult = {
    digest: top.descriptor.digest,
    tags: [],
    bytesUploaded: 0,
    blobsUploaded: 0,
    blobsSkipped: 0,
    blobsMounted: 0,
    foreignSkipped: [...(plan.foreign ?? [])],
  };
  progress({
    type: "push-start",
    target: repository.name,
    blobs: plan.blobs.length,
    total: plan.blobs.reduce((sum, blob) => sum + blob.size, 0),
  });

  // Phase 1, nothing visible yet: find what the registry has, stage every large blob (all its bytes sent
  // and verified, the upload left open) and read every small one through its verifier. A corrupted blob
  // stops the push here, before the registry holds anything new.
  // Largest first: the long uploads start at once instead of last.
  const blobs = [...plan.blobs].sort((a, b) => b.size - a.size);
  const limit = options.concurrency ?? DEFAULT_CONCURRENCY;
  const actions = new Map<string, BlobAction>();
  const chunkThreshold = repository.chunkThreshold;
  try {
    await forEachLimited(blobs, limit, options.signal, async (blob, signal) => {
      const id = shortDigest(blob.digest);
      progress({ type: "blob-start", id, total: blob.size });
      if (await repository.blobExists(blob.digest, signal)) {
        result.blobsSkipped++;
        progress({ type: "blob-done", id, total: blob.size, how: "exists" });
        return;
      }
      for (const from of repository.mountSources) {
        if (await repository.blobExistsIn(from, blob.digest, signal)) {
          // The registry may still refuse the mount (202: it opens an upload instead, distribution spec
          // "Mounting a blob from another repository"); phase 2 then uploads these bytes, so they are
          // verified now like every other blob's, before anything is committed.
          await verifyBlob(blob, options.openBlob(blob.digest));
          actions.set(blob.digest, { kind: "mount", from });
          return;
        }
      }
      if (blob.size > chunkThreshold) {
        const upload = await repository.stageBlob(blob, () => options.openBlob(blob.digest), {
          signal,
          onProgress: (current) => progress({ type: "blob-progress", id, current, total: blob.size }),
          // Pushes of images on one base upload the same layers at once: once one of them has put a blob
          // in place, the others stop sending it.
          abandonIf: () => repository.blobExists(blob.digest, signal),
          onResume: (offset) =>
            progress({
              type: "message",
              text:
                offset === undefined
                  ? `${id}: the registry lost the upload session: sending the blob again in a new one`
                  : `${id}: the registry has ${formatBytes(offset)} of ${formatBytes(blob.size)}: going on from there`,
            }),
        });
        if (!upload) {
          result.blobsSkipped++;
          progress({ type: "blob-done", id, total: blob.size, how: "exists" });
          return;
        }
        actions.set(blob.digest, { kind: "commit", upload });
      } else {
        const [verified, opened] = await Promise.allSettled([
          verifyBlob(blob, options.openBlob(blob.digest)),
          // Not cut when another blob fails: a POST the registry took must bring its Location back, to be
          // cancelled below (the client's own stop and cut still apply).
          signal.aborted
            ? Promise.reject(signal.reason)
            : repository.startUpload(`upload of blob ${blob.digest} to ${repository.name}`),
        ]);
        // Recorded before a verification failure is thrown: the catch below cancels every open session.
        // A session that could not be opened now is opened by the upload, under its retry policy.
        actions.set(blob.digest, {
          kind: "upload",
          opened: opened.status === "fulfilled" ? opened.value : undefined,
        });
        if (verified.status === "rejected") throw verified.reason;
      }
    });
  } catch (error) {
    await cancelOpenSessions(repository, actions);
    throw error;
  }

  // Phase 2: put every blob in place (commit, mount, or a small monolithic upload). Every blob uploaded
  // here was read through its verifier in phase 1.
  const pending = blobs.filter((blob) => actions.has(blob.digest));
  try {
    await forEachLimited(pending, limit, options.signal, async (blob, signal) => {
      const id = shortDigest(blob.digest);
      const action = actions.get(blob.digest) as BlobAction;
      let how: "uploaded" | "mounted" | "exists" = "uploaded";
      if (action.kind === "commit") {
        // Another push may have put the blob in place since it was staged: its session is then cancelled,
        // not completed. Every completion makes the registry write its link to the blob again, and many
        // pushes completing one blob at once is what made manifest writes fail (issue 16).
        if (await repository.blobExists(blob.digest, signal)) {
          await repository.cancelUpload(action.upload.location);
          how = "exists";
        } else {
          await repository.commitBlob(blob, action.upload, signal);
        }
        actions.delete(blob.digest);
      } else if (action.kind === "mount" && (await repository.mountBlob(blob, action.from, signal))) {
        how = "mounted";
      } else {
        const opened = action.kind === "upload" ? action.opened : undefined;
        // From here on the upload owns the session (it cancels it when the PUT fails).
        actions.delete(blob.digest);
        await repository.uploadBlob(blob, () => options.openBlob(blob.digest), {
          signal,
          opened,
          onProgress: (current) => progress({ type: "blob-progress", id, current, total: blob.size }),
        });
      }
      if (how === "uploaded") {
        result.blobsUploaded++;
        result.bytesUploaded += blob.size;
      } else if (how === "mounted") result.blobsMounted++;
      else result.blobsSkipped++;
      progress({ type: "blob-done", id, total: blob.size, how });
    });
  } catch (error) {
    await cancelOpenSessions(repository, actions);
    throw error;
  }

  // Children by digest (an index's platforms and attestations), then the top under each tag: the first
  // tag write is the registry's check of the top manifest, and if it refuses it, no tag has moved.
  const writing: ManifestWriteContext = {
    repository,
    plan,
    openBlob: options.openBlob,
    progress,
    signal: options.signal,
  };
  for (const manifest of plan.manifests.slice(0, -1)) {
    await writeManifest(writing, manifest.descriptor.digest, manifest);
  }
  for (const tag of options.tags) {
    try {
      await writeManifest(writing, tag, top);
    } catch (error) {
      if (result.tags.length === 0) throw error;
      const notWritten = options.tags.filter((t) => !result.tags.includes(t));
      throw new PartialPushError(
        `${messageOf(error)}; tags written before the failure (they now point at ${result.digest}): ${result.tags.join(", ")}; not written: ${notWritten.join(", ")}`,
        [...result.tags],
        error,
      );
    }
    result.tags.push(tag);
    progress({ type: "manifest", reference: `${repository.name}:${tag}`, digest: result.digest });
  }
  return result;
}
