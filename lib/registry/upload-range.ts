/**
 * The `Range` header of an upload session's answers: how many bytes of the blob the registry holds
 * (distribution spec, "Pushing a blob in chunks": `Range: 0-<end-of-range>`, inclusive; older texts of the
 * spec and some registries write `bytes=0-<offset>`).
 * https://github.com/opencontainers/distribution-spec/blob/main/spec.md#pushing-a-blob-in-chunks
 */

const UPLOAD_RANGE = /^(?:bytes=)?0-(\d{1,15})$/;

/**
 * The bytes a session holds, from its `Range`; undefined when the header is missing or malformed.
 * `0-0` is read as none: it is what distribution answers for a session that has no bytes yet (an
 * inclusive range cannot say "empty"), and a session holding exactly one byte is then sent that byte
 * again, which a registry that checks offsets refuses with 416 (a new session follows).
 */
export function uploadedBytes(range: string | undefined): number | undefined {
  const match = UPLOAD_RANGE.exec(range?.trim() ?? "");
  if (!match) return undefined;
  const last = Number(match[1]);
  return last === 0 ? 0 : last + 1;
}
