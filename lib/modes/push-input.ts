/**
 * What a push-only run pushes, and where, checked before anything is sent to a registry or loaded into an
 * engine: the registry path (push-only.ts) and the engine path (push-daemon.ts) refuse bad input alike,
 * with a UsageError (exit 2) and no side effect.
 */
import { openArchive } from "../archive/open.js";
import type { ArchiveImage, OpenedArchive, OpenedImage } from "../archive/types.js";
import type { Settings } from "../config/settings.js";
import { UsageError } from "../errors.js";
import {
  checkTag,
  parseImageReference,
  parseRepository,
  type RepositoryName,
  SHA256_DIGEST,
} from "../registry/reference.js";

/** The repository and tags the push writes. */
export interface PushTarget {
  target: RepositoryName;
  tags: string[];
}

/** `PLUGIN_REPO` and `PLUGIN_TAGS` as a push target. */
export function pushTarget(settings: Pick<Settings, "repo" | "tags">): PushTarget {
  if (!settings.repo) {
    throw new UsageError(
      "push-only needs PLUGIN_REPO: the repository to push to, e.g. registry.example.com/team/app",
      ["repo"],
    );
  }
  const target = parseRepository(settings.repo);
  const tags = settings.tags.length ? settings.tags : ["latest"];
  for (const tag of tags) checkTag(tag);
  return { target, tags };
}

/** The image of a tarball that the push publishes. */
export interface TarballSource {
  archive: OpenedArchive;
  image: OpenedImage;
  /** The digest the registry will serve for it. */
  digest: string;
}

/**
 * Opens the tarball, picks its image (`PLUGIN_SOURCE_IMAGE`) and holds it to `PLUGIN_EXPECTED_DIGEST`: the
 * push step can demand the digest the build step reported and the scanner saw.
 */
export async function tarballSource(
  path: string,
  settings: Pick<Settings, "sourceImage" | "expectedDigest">,
): Promise<TarballSource> {
  const archive = await openArchive(path);
  const image = pickImage(archive, settings.sourceImage);
  const digest = image.descriptor.digest;
  const expected = expectedDigestOf(settings);
  if (expected && expected !== digest) {
    throw new UsageError(
      `PLUGIN_EXPECTED_DIGEST is ${expected}, but the image in ${archive.path} has digest ${digest}: this is not the image that was built (or scanned); nothing was pushed`,
      ["expectedDigest", "sourceTarPath"],
    );
  }
  return { archive, image, digest };
}

/** `PLUGIN_EXPECTED_DIGEST` as a digest (hex is case-insensitive), or undefined when unset. */
export function expectedDigestOf(settings: Pick<Settings, "expectedDigest">): string | undefined {
  const expected = settings.expectedDigest?.trim().toLowerCase() || undefined;
  if (expected && !SHA256_DIGEST.test(expected)) {
    throw new UsageError(
      `PLUGIN_EXPECTED_DIGEST "${settings.expectedDigest}" is not a digest: give sha256: and 64 hex digits`,
      ["expectedDigest"],
    );
  }
  return expected;
}

/** One line per image of a tarball, for errors that ask the user to pick one. */
function describeImages(images: ArchiveImage[]): string {
  return images
    .map((image) => {
      const names = image.names.length ? image.names.join(", ") : "(no name)";
      const platforms = image.platforms.length ? ` [${image.platforms.join(", ")}]` : "";
      return `  ${names}  ${image.descriptor.digest}${platforms}`;
    })
    .join("\n");
}

/** Whether `wanted` (a name as docker reads it, or a digest) designates `image`. */
function designates(image: ArchiveImage, wanted: string): boolean {
  const trimmed = wanted.trim();
  if (SHA256_DIGEST.test(trimmed)) return image.descriptor.digest === trimmed;
  const want = parseImageReference(trimmed);
  return image.names.some((name) => {
    if (name === trimmed) return true;
    const have = parseImageReference(name);
    if (!want || !have) return false;
    return have.repository.full === want.repository.full && (have.tag ?? "latest") === (want.tag ?? "latest");
  });
}

/** The image to push: the only one, or the one `PLUGIN_SOURCE_IMAGE` names. */
export function pickImage<T extends ArchiveImage>(
  archive: { images: T[]; path: string },
  sourceImage: string | undefined,
): T {
  const { images } = archive;
  if (sourceImage) {
    const matches = images.filter((image) => designates(image, sourceImage));
    if (matches.length === 1 && matches[0]) return matches[0];
    throw new UsageError(
      `PLUGIN_SOURCE_IMAGE "${sourceImage}" ${matches.length ? "matches several images" : "is not an image"} of ${archive.path}; its images are:\n${describeImages(images)}\nset PLUGIN_SOURCE_IMAGE to one of these names, or to a digest`,
      ["sourceImage"],
    );
  }
  if (images.length === 1 && images[0]) return images[0];
  throw new UsageError(
    `${archive.path} holds ${images.length} images; set PLUGIN_SOURCE_IMAGE to the one to push (a name or a digest):\n${describeImages(images)}`,
    ["sourceImage", "sourceTarPath"],
  );
}
