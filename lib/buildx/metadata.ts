/**
 * buildx's `--metadata-file`: a JSON object describing what was exported. `containerimage.descriptor` is the
 * build's own result, the manifest (one platform) or index (several) as the registry serves it or the
 * tarball's `index.json` records it. `containerimage.digest` is what the engine's image store holds under
 * the image's name once the build is done, which is another build's image when builds to the same name
 * run at once on one engine (issue 16): it is not this build's digest then. The classic image store
 * gives no descriptor: its push reports the manifest it pushed in `containerimage.digest`; its `--load`
 * the image ID there (the config's digest, `containerimage.config.digest`), which no registry serves.
 */
import { readFile } from "node:fs/promises";
import { StepFailure } from "../errors.js";
import { SHA256_DIGEST } from "../reference/digest.js";

export type BuildxMetadata = Record<string, unknown>;

/**
 * The digest of the manifest or index this build exported, if buildx names one: its descriptor's, else
 * (classic store) `containerimage.digest` unless that is the image ID. Pure.
 */
export function manifestDigest(metadata: BuildxMetadata): string | undefined {
  const descriptor = metadata["containerimage.descriptor"];
  if (typeof descriptor === "object" && descriptor !== null) {
    const own = (descriptor as { digest?: unknown }).digest;
    return typeof own === "string" && SHA256_DIGEST.test(own) ? own : undefined;
  }
  const digest = metadata["containerimage.digest"];
  if (typeof digest !== "string" || !SHA256_DIGEST.test(digest)) return undefined;
  return digest === metadata["containerimage.config.digest"] ? undefined : digest;
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
