/**
 * buildx's `--metadata-file`: a JSON object whose `containerimage.digest` is the digest of what was
 * exported: the manifest (one platform) or the index (several) for a push or a tarball, as the registry
 * serves it or the tarball's `index.json` records it. With the classic image store's `--load` it is the
 * image ID (the config's digest) instead, which no registry serves: `containerimage.descriptor` is then
 * missing, and so is the digest here.
 */
import { readFile } from "node:fs/promises";
import { StepFailure } from "../errors.js";

export type BuildxMetadata = Record<string, unknown>;

const DIGEST = /^sha256:[0-9a-f]{64}$/;

/** The manifest or index digest in buildx's metadata, if it names one. Pure. */
export function manifestDigest(metadata: BuildxMetadata): string | undefined {
  const digest = metadata["containerimage.digest"];
  if (typeof digest !== "string" || !DIGEST.test(digest)) return undefined;
  const descriptor = metadata["containerimage.descriptor"];
  if (typeof descriptor !== "object" || descriptor === null) return undefined;
  return (descriptor as { digest?: unknown }).digest === digest ? digest : undefined;
}

/** Reads the metadata file buildx wrote; a missing or broken file is a failure of the build. */
export async function readBuildxMetadata(file: string): Promise<{ text: string; metadata: BuildxMetadata }> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    throw new StepFailure(
      `buildx wrote no metadata file (${(error as NodeJS.ErrnoException).code ?? "error"})`,
      {
        cause: error,
      },
    );
  }
  try {
    const metadata = JSON.parse(text) as unknown;
    if (typeof metadata !== "object" || metadata === null || Array.isArray(metadata))
      throw new Error("not an object");
    return { text, metadata: metadata as BuildxMetadata };
  } catch (error) {
    throw new StepFailure(`buildx's metadata file is not a JSON object: ${(error as Error).message}`, {
      cause: error,
    });
  }
}
