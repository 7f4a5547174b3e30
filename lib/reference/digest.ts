/**
 * Content digests (`algorithm:hex`), as the OCI image spec defines them:
 * https://github.com/opencontainers/image-spec/blob/main/descriptor.md#digests
 */
import { createHash } from "node:crypto";

/** The text of a sha256 digest, for patterns that hold one (an engine's output lines). */
export const SHA256_DIGEST_TEXT = "sha256:[a-f0-9]{64}";
/** The digests registries serve, engines report and PLUGIN_EXPECTED_DIGEST accepts. */
export const SHA256_DIGEST = new RegExp(`^${SHA256_DIGEST_TEXT}$`);
/** The digests an image may name its blobs by: sha256, or sha512 (which OCI layouts may use). */
export const BLOB_DIGEST = new RegExp(`^(?:${SHA256_DIGEST_TEXT}|sha512:[a-f0-9]{128})$`);

/** The digest of `bytes` (sha256 unless another algorithm is named). */
export function digestOf(bytes: Buffer, algorithm = "sha256"): string {
  return `${algorithm}:${createHash(algorithm).update(bytes).digest("hex")}`;
}
