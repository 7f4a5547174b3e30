/**
 * The plugin's auto tags (`PLUGIN_AUTO_TAG`, `PLUGIN_AUTO_TAG_SUFFIX`), as drone-docker/drone-buildx
 * `tags.go` computes them: on a tag event `refs/tags/v1.2.3` the tags are `1`, `1.2`, `1.2.3` (`0.2`,
 * `0.2.3` for a 0.x version; the version itself for a pre-release or build metadata), on the repository's
 * default branch `latest`; a suffix is appended as `-SUFFIX` (and replaces `latest`). On any other ref the
 * plugin skips the build. Versions parse as coreos/go-semver does (exactly `X.Y.Z`, leading `v` dropped),
 * and the tags keep the digits' zero padding (`2024.01.05` → `2024`, `2024.01`, `2024.01.05`).
 */
import { UsageError } from "../errors.js";

type AutoTagResult = { tags: string[] } | { skip: string };

const TAG_PREFIX = "refs/tags/";
const HEAD_PREFIX = "refs/heads/";
const IDENTIFIER = /^[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*$/;
const NUMBER = /^\d+$/;

/** The plugin's `UseDefaultTag`: a tag event, or a push to the repository's default branch. */
export function usesAutoTags(ref: string, defaultBranch: string): boolean {
  if (ref.startsWith(TAG_PREFIX)) return true;
  return (ref.startsWith(HEAD_PREFIX) ? ref.slice(HEAD_PREFIX.length) : ref) === defaultBranch;
}

/** Cuts `input` at the first `separator`: [before, after] (after is "" when there is none). */
function splitOff(input: string, separator: string): [string, string] {
  const at = input.indexOf(separator);
  return at < 0 ? [input, ""] : [input.slice(0, at), input.slice(at + 1)];
}

/** The plugin's `DefaultTags`: tags for a ref. Throws for a tag that is not a semantic version. */
export function defaultTags(ref: string): string[] {
  if (!ref.startsWith(TAG_PREFIX)) return ["latest"];
  const version = ref.slice(TAG_PREFIX.length).replace(/^v/, "");
  const [withoutMetadata, metadata] = splitOff(version, "+");
  const [core, preRelease] = splitOff(withoutMetadata, "-");
  const parts = core.split(".");
  const valid =
    parts.length === 3 &&
    parts.every((part) => NUMBER.test(part)) &&
    (preRelease === "" || IDENTIFIER.test(preRelease)) &&
    (metadata === "" || IDENTIFIER.test(metadata));
  if (!valid) {
    throw new UsageError(
      `PLUGIN_AUTO_TAG: the git tag "${ref.slice(TAG_PREFIX.length)}" (DRONE_COMMIT_REF ${ref}) is not a semantic version X.Y.Z: ` +
        "tag the commit like v1.2.3, or set tags with PLUGIN_TAGS instead of PLUGIN_AUTO_TAG",
    );
  }
  const [major, minor, patch] = parts as [string, string, string];
  if (preRelease !== "" || metadata !== "") {
    // go-semver prints the numbers without padding, then -pre and +metadata.
    const numbers = `${Number(major)}.${Number(minor)}.${Number(patch)}`;
    return [`${numbers}${preRelease ? `-${preRelease}` : ""}${metadata ? `+${metadata}` : ""}`];
  }
  // Zero padding is kept as written: the plugin formats each number with the width of its text.
  const pad = (text: string) => String(Number(text)).padStart(text.length, "0");
  if (Number(major) === 0)
    return [`${pad(major)}.${pad(minor)}`, `${pad(major)}.${pad(minor)}.${pad(patch)}`];
  return [pad(major), `${pad(major)}.${pad(minor)}`, `${pad(major)}.${pad(minor)}.${pad(patch)}`];
}

/** The plugin's `DefaultTagSuffix`: `latest` becomes the suffix, every other tag gets `-suffix`. */
export function withSuffix(tags: string[], suffix: string | undefined): string[] {
  if (!suffix) return tags;
  return tags.map((tag) => (tag === "latest" ? suffix : `${tag}-${suffix}`));
}

/** The tags auto tag gives for this ref, or why the plugin would skip the build. */
export function autoTags(ref: string, defaultBranch: string, suffix: string | undefined): AutoTagResult {
  if (!usesAutoTags(ref, defaultBranch)) {
    return {
      skip: `skipping automated docker build for ${ref || "(no DRONE_COMMIT_REF)"}: PLUGIN_AUTO_TAG builds only tags and the default branch (${defaultBranch || "DRONE_REPO_BRANCH unset"})`,
    };
  }
  return { tags: withSuffix(defaultTags(ref), suffix) };
}
