/**
 * What a push-only run pushes, and where, checked before anything is sent to a registry or loaded into an
 * engine: the registry path (push-only.ts) and the engine path (push-daemon.ts) refuse bad input alike,
 * with a UsageError (exit 2) and no side effect.
 */
import { openArchive } from "../archive/open.js";
import { platformMatches } from "../archive/platform.js";
import type { ArchiveImage, OpenedArchive, OpenedImage } from "../archive/types.js";
import type { ParsedSettings } from "../config/parsed.js";
import { pluginSettingNames, type SettingNames } from "../config/provenance.js";
import type { Settings } from "../config/settings.js";
import { UsageError } from "../errors.js";
import { SHA256_DIGEST } from "../reference/digest.js";
import { parseImageReference, type RepositoryName } from "../reference/name.js";

/** The repository and tags the push writes. */
export interface PushTarget {
  target: RepositoryName;
  tags: string[];
}

/** `PLUGIN_REPO` and `PLUGIN_TAGS`, as validation parsed them, as a push target. */
export function pushTarget({ repository, tags }: Pick<ParsedSettings, "repository" | "tags">): PushTarget {
  // Validation refuses push-only without PLUGIN_REPO; this keeps the type honest.
  if (!repository) {
    throw new UsageError(
      "push-only needs PLUGIN_REPO: the repository to push to, e.g. registry.example.com/team/app",
    );
  }
  return { target: repository, tags };
}

/** The image of a tarball that the push publishes. */
export interface TarballSource {
  archive: OpenedArchive;
  image: OpenedImage;
  /** The digest the registry will serve for it. */
  digest: string;
}

/**
 * Opens the archive, picks its image (`PLUGIN_SOURCE_IMAGE`) and, with `PLUGIN_SOURCE_PLATFORM`, that
 * image's manifest for the platform; refuses an image whose index lists manifests the archive does not
 * hold; and holds the result to `PLUGIN_EXPECTED_DIGEST` (as validation parsed it): the push step can
 * demand the digest the build step reported and the scanner saw. `names` says how messages name the
 * settings. The caller closes the archive (a compressed or piped input has a temporary tar).
 */
export async function tarballSource(
  path: string,
  settings: Pick<Settings, "sourceImage" | "sourcePlatform"> & Pick<ParsedSettings, "expectedDigest">,
  names: SettingNames = pluginSettingNames,
  /** Stops the copy of a compressed or piped input (a signal, the push deadline). */
  signal?: AbortSignal,
): Promise<TarballSource> {
  const archive = await openArchive(path, signal ? { signal } : {});
  try {
    const picked = pickImage(archive, settings.sourceImage, names("sourceImage"));
    const platform = settings.sourcePlatform?.trim();
    const image = platform
      ? pickPlatform(archive, picked, platform, names)
      : wholeImage(archive, picked, names);
    const digest = image.descriptor.digest;
    const expected = settings.expectedDigest;
    if (expected && expected !== digest) {
      throw new UsageError(
        `${names("expectedDigest")} is ${expected}, but the image in ${archive.path}${platform ? ` for ${platform}` : ""} has digest ${digest}: this is not the image that was built (or scanned); nothing was pushed`,
        names("expectedDigest"),
      );
    }
    return { archive, image, digest };
  } catch (error) {
    await archive.close();
    throw error;
  }
}

/** `os/arch` of present manifests and of missing ones, for messages. */
function platformLists(image: OpenedImage): { present: string[]; absent: string[] } {
  const absent = [
    ...new Set(image.missing.flatMap((m) => (m.attestation ? [] : [m.platform ?? "unknown platform"]))),
  ];
  return { present: image.platforms, absent };
}

/** The image itself, refused when its index lists manifests the archive does not hold. */
function wholeImage(archive: OpenedArchive, image: OpenedImage, names: SettingNames): OpenedImage {
  if (image.missing.length === 0) return image;
  const { present, absent } = platformLists(image);
  const attestations = image.missing.filter((m) => m.attestation).length;
  const what = [
    absent.length ? `the platform${absent.length === 1 ? "" : "s"} ${absent.join(", ")}` : "",
    attestations ? `${attestations} attestation manifest${attestations === 1 ? "" : "s"}` : "",
  ]
    .filter(Boolean)
    .join(" and ");
  const first = present[0];
  throw new UsageError(
    `${archive.path} holds an incomplete multi-platform image ${image.names[0] ?? image.descriptor.digest}: its index ${image.descriptor.digest} lists ${what}, which the file does not hold (docker save of an image pulled for one platform writes the whole index but only that platform; saving it again gives the same file). A registry refuses an index whose manifests are missing, so it cannot be pushed whole. ${
      first
        ? `Push the platform that is there, at its own digest, with ${names("sourcePlatform")} ${present.join(" or ")} (e.g. ${names("sourcePlatform").startsWith("--") ? `${names("sourcePlatform")} ${first}` : `${names("sourcePlatform")}=${first}`})`
        : "No platform of it is in the file"
    }; or copy every platform from the registry into an archive (skopeo copy --all docker://IMAGE oci-archive:FILE) and push that; nothing was pushed`,
    names("sourcePlatform"),
  );
}

/** The manifest of `image` for `platform` (os/arch[/variant]), as an image of its own. */
function pickPlatform(
  archive: OpenedArchive,
  image: OpenedImage,
  platform: string,
  names: SettingNames,
): OpenedImage {
  const runnable = image.manifests.filter((m) => !m.attestation && m.platform);
  const matches = runnable.filter((m) => m.platform && platformMatches(platform, m.platform));
  const { present, absent } = platformLists(image);
  const listing = `it holds ${present.length ? present.join(", ") : "no platform it names"}${absent.length ? ` (its index also lists ${absent.join(", ")}, which the file does not hold)` : ""}`;
  const setting = names("sourcePlatform");
  if (matches.length === 1 && matches[0]) {
    // An image of one manifest is that manifest: pushed as it is, at the same digest.
    if (image.manifests.length === 1 && image.missing.length === 0) return image;
    return archive.manifestImage(image, matches[0]);
  }
  const inMissing = image.missing.some((m) => m.platform && platformMatches(platform, m.platform));
  const problem =
    matches.length > 1
      ? `matches ${matches.length} manifests of ${image.names[0] ?? image.descriptor.digest} in ${archive.path} (${matches.map((m) => `${m.platform} ${m.descriptor.digest}`).join(", ")}): give the variant too`
      : inMissing
        ? `is listed by the index of ${image.names[0] ?? image.descriptor.digest} in ${archive.path}, but the file does not hold it (the image was saved for another platform): ${listing}`
        : `is not a platform of ${image.names[0] ?? image.descriptor.digest} in ${archive.path}: ${listing}`;
  throw new UsageError(`${setting} "${platform}" ${problem}; nothing was pushed`, setting);
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

/** The image to push: the only one, or the one `PLUGIN_SOURCE_IMAGE` (named `setting` in messages) names. */
export function pickImage<T extends ArchiveImage>(
  archive: { images: T[]; path: string },
  sourceImage: string | undefined,
  setting = "PLUGIN_SOURCE_IMAGE",
): T {
  const { images } = archive;
  if (sourceImage) {
    const matches = images.filter((image) => designates(image, sourceImage));
    if (matches.length === 1 && matches[0]) return matches[0];
    throw new UsageError(
      `${setting} "${sourceImage}" ${matches.length ? "matches several images" : "is not an image"} of ${archive.path}; its images are:\n${describeImages(images)}\nset ${setting} to one of these names, or to a digest`,
      setting,
    );
  }
  if (images.length === 1 && images[0]) return images[0];
  throw new UsageError(
    `${archive.path} holds ${images.length} images; set ${setting} to the one to push (a name or a digest):\n${describeImages(images)}`,
    setting,
  );
}
