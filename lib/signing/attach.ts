/**
 * Adds one signature or attestation layer to the cosign image under a `.sig`/`.att` tag, through the
 * registry client (its credentials, deadlines and body limits): read what the tag holds, keep it when a
 * layer there already says the same (same payload, signed by the same key: a second push of the same
 * digest, under another tag or not), else write the new layer's blob, the config, and the manifest with
 * the existing layers and the new one last, under the tag. Another signer's layers stay, as with cosign.
 *
 * Two runs that add to the same tag at once may lose one of the two layers (the manifest is read, then
 * written whole); cosign has the same window, and the run that lost can sign again.
 */
import { Readable } from "node:stream";
import { StepFailure } from "../errors.js";
import type { RepositoryClient } from "../registry/repository.js";
import {
  emptySignatureImage,
  type LayerDescriptor,
  MAX_SIGNATURE_LAYERS,
  parseSignatureImage,
  type SignatureLayer,
  serializeSignatureImage,
} from "./signature-image.js";

interface AttachOptions {
  repository: RepositoryClient;
  /** `sha256-<hex>.sig` or `.att`. */
  tag: string;
  layer: SignatureLayer;
  /**
   * Whether a layer the tag holds already stands for `layer`; `read` fetches its bytes (only when the
   * descriptor alone cannot tell).
   */
  isDuplicate: (existing: LayerDescriptor, read: () => Promise<Buffer | undefined>) => Promise<boolean>;
  signal?: AbortSignal;
}

export interface Attached {
  /** `sha256-<hex>.sig` or `.att`. */
  tag: string;
  /** The digest of the manifest the tag points at afterwards. */
  digest: string;
  /** False when an equal layer was there already and nothing was written. */
  added: boolean;
  /** Layers (signatures or attestations) under the tag afterwards. */
  layers: number;
}

async function putBlob(repository: RepositoryClient, bytes: Buffer, digest: string, signal?: AbortSignal) {
  if (await repository.blobExists(digest, signal)) return;
  await repository.uploadBlob({ digest, size: bytes.length }, () => Readable.from([bytes]), { signal });
}

export async function attachLayer(options: AttachOptions): Promise<Attached> {
  const { repository, tag, layer, signal } = options;
  const existing = await repository.readManifest(tag, signal);
  let image = emptySignatureImage();
  if (existing) {
    const parsed = parseSignatureImage(existing.text);
    if (!parsed) {
      throw new StepFailure(
        `${repository.name}:${tag} holds a manifest that is not a cosign signature image (no layers to add to); it was left as it is`,
      );
    }
    for (const candidate of parsed.layers) {
      if (await options.isDuplicate(candidate, () => repository.readSmallBlob(candidate.digest, signal))) {
        return { tag, digest: existing.digest, added: false, layers: parsed.layers.length };
      }
    }
    if (parsed.layers.length >= MAX_SIGNATURE_LAYERS) {
      throw new StepFailure(
        `${repository.name}:${tag} already holds ${parsed.layers.length} layers, the most cosign reads: remove old signatures (cosign clean) first`,
      );
    }
    image = parsed;
  }
  const { bytes, ...descriptor } = layer;
  const next = { ...image, layers: [...image.layers, descriptor] };
  const serialized = serializeSignatureImage(next);
  await putBlob(repository, bytes, layer.digest, signal);
  await putBlob(repository, serialized.config, serialized.configDigest, signal);
  const digest = await repository.putManifest(tag, next.mediaType, serialized.manifest, signal);
  return { tag, digest, added: true, layers: next.layers.length };
}
