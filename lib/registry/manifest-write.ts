/**
 * A manifest write that survives the registry briefly not knowing what the manifest names.
 *
 * Pushes of images that share layers, many at once into one registry (a CI fleet building on one base),
 * each upload or mount a blob the others upload too; every one of them makes the registry write the
 * repository's link to that blob again. distribution 2.8's filesystem storage rewrites such a link in
 * place (truncated, then written; later releases write a new file and rename it), so a manifest write
 * that reads it meanwhile finds it empty and is refused: MANIFEST_BLOB_UNKNOWN, or DIGEST_INVALID for the
 * empty link read as a digest (issue 16). The blob is there a moment later, or, if it really is missing,
 * this push has its bytes. So a write refused for content it names is, within the retry budget: waited
 * on (backoff), its blobs checked and what is really missing uploaded again from the tarball (verified
 * as it streams, like every upload), its child manifests checked and written again, and sent again.
 * https://github.com/opencontainers/distribution-spec/blob/main/spec.md#pushing-manifests
 */
import type { Readable } from "node:stream";
import type { Descriptor, PushPlan } from "../archive/types.js";
import type { ProgressSink } from "../progress/events.js";
import { RegistryHttpError } from "./errors.js";
import type { RepositoryClient } from "./repository.js";

type PlannedManifest = PushPlan["manifests"][number];

/**
 * Error codes of a manifest write refused for content it names (distribution spec, "Error Codes");
 * DIGEST_INVALID is distribution 2.8 reading a link that is being rewritten: the manifest's own digest
 * cannot be wrong here, it is computed from the bytes sent.
 */
const UNKNOWN_CONTENT_CODES = new Set([
  "MANIFEST_BLOB_UNKNOWN",
  "BLOB_UNKNOWN",
  "MANIFEST_UNKNOWN",
  "DIGEST_INVALID",
]);

/** Whether a manifest write was refused (400 or 404) only for content it names. */
export function refusedForUnknownContent(error: unknown): boolean {
  return (
    error instanceof RegistryHttpError &&
    (error.status === 400 || error.status === 404) &&
    error.details.length > 0 &&
    error.details.every((detail) => detail.code !== undefined && UNKNOWN_CONTENT_CODES.has(detail.code))
  );
}

/** The digests a manifest or index names: its config, layers, and (an index) manifests. Pure. */
export function namedDigests(bytes: Buffer): string[] {
  let value: { config?: Descriptor; layers?: Descriptor[]; manifests?: Descriptor[] };
  try {
    value = JSON.parse(bytes.toString("utf8"));
  } catch {
    return [];
  }
  const listed = [value.config, ...(value.layers ?? []), ...(value.manifests ?? [])];
  return listed.flatMap((d) => (typeof d?.digest === "string" ? [d.digest] : []));
}

export interface ManifestWriteContext {
  repository: RepositoryClient;
  plan: PushPlan;
  openBlob: (digest: string) => Readable;
  progress: ProgressSink;
  signal?: AbortSignal;
}

/** Writes `manifest` under `reference` (a tag or its digest), repaired as above; returns its digest. */
export async function writeManifest(
  context: ManifestWriteContext,
  reference: string,
  manifest: PlannedManifest,
): Promise<string> {
  const { repository, signal } = context;
  const what = `write of manifest ${manifest.descriptor.digest} as ${repository.name}${reference.includes(":") ? "@" : ":"}${reference}`;
  const budget = repository.retryBudget(what, signal);
  let repair = false;
  for (;;) {
    try {
      if (repair) await restoreNamedContent(context, manifest);
      return await repository.putManifest(reference, manifest.descriptor.mediaType, manifest.bytes, signal);
    } catch (error) {
      if (!refusedForUnknownContent(error)) throw error;
      await budget.next(error, true);
      repair = true;
    }
  }
}

/** Checks everything `manifest` names and puts back what the registry lacks. */
async function restoreNamedContent(context: ManifestWriteContext, manifest: PlannedManifest): Promise<void> {
  const { repository, plan, signal } = context;
  for (const digest of namedDigests(manifest.bytes)) {
    const blob = plan.blobs.find((b) => b.digest === digest);
    if (blob) {
      if (await repository.blobExists(digest, signal)) continue;
      context.progress({
        type: "message",
        text: `${digest} is not in ${repository.name} although it was pushed: uploading it again`,
      });
      await repository.uploadBlob(blob, () => context.openBlob(digest), { signal });
      continue;
    }
    const child = plan.manifests.find((m) => m.descriptor.digest === digest);
    if (child && (await repository.manifestDigest(digest, signal)) === undefined) {
      await restoreNamedContent(context, child);
      await repository.putManifest(digest, child.descriptor.mediaType, child.bytes, signal);
    }
  }
}
