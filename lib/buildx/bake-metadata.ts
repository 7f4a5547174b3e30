/**
 * buildx bake's `--metadata-file`: one object per target, keyed by the target's name, each like build's
 * metadata (`containerimage.digest`, `containerimage.descriptor`, `image.name` with the tags it got, comma
 * separated); keys that are not target names (`buildx.build.warnings` in newer buildx) are not targets.
 * Pure.
 */
import { type BuildxMetadata, manifestDigest } from "./metadata.js";

export interface BakeTarget {
  name: string;
  /** The manifest or index digest the target's image has (see metadata.ts), if buildx reports one. */
  digest?: string;
  /** The image names the target's image got (`registry/repo:tag`). */
  images: string[];
}

/** bake's rule for target names (buildx bake/bake.go `validateTargetName`). */
const TARGET_NAME = /^[a-zA-Z0-9_-]+$/;

export function bakeTargets(metadata: BuildxMetadata): BakeTarget[] {
  const targets: BakeTarget[] = [];
  for (const [name, value] of Object.entries(metadata)) {
    if (!TARGET_NAME.test(name) || typeof value !== "object" || value === null || Array.isArray(value))
      continue;
    const entry = value as BuildxMetadata;
    const names = entry["image.name"];
    const images =
      typeof names === "string"
        ? names
            .split(",")
            .map((image) => image.trim())
            .filter((image) => image !== "")
        : [];
    const digest = manifestDigest(entry);
    targets.push(digest ? { name, digest, images } : { name, images });
  }
  return targets.sort((a, b) => a.name.localeCompare(b.name));
}
