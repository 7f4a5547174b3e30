/**
 * The settings that have a structure (the image's name, its tags, a digest, the push's deadline, the
 * build's secrets), parsed once, by validation, into the values the modes use: a mode reads these and
 * never checks them again.
 */
import { UsageError } from "../errors.js";
import { SHA256_DIGEST } from "../reference/digest.js";
import { parseRepository, type RepositoryName, TAG_PATTERN } from "../reference/name.js";
import { secretArgs } from "./build-secrets.js";
import { parseDuration } from "./duration.js";
import type { SettingKey } from "./schema.js";
import type { Settings } from "./settings.js";

export interface ParsedSettings {
  /** `PLUGIN_REPO`; undefined when it is unset or blank. */
  repository?: RepositoryName;
  /** `PLUGIN_TAGS`, every one a valid tag; `latest` when none is given. */
  tags: string[];
  /** `PLUGIN_EXPECTED_DIGEST`, a sha256 digest; undefined when unset. */
  expectedDigest?: string;
  /** `PLUGIN_PUSH_TIMEOUT` in milliseconds. */
  pushTimeoutMs: number;
}

/**
 * Parses the structured settings. Each bad value is reported through `problem` (with the setting's
 * name as `name` gives it) and left out of the result, so that validation lists every problem at once.
 */
export function parseSettings(
  settings: Settings,
  name: (key: SettingKey) => string,
  problem: (message: string, key: SettingKey) => void,
): ParsedSettings {
  const pushTimeoutMs = parseDuration(settings.pushTimeout);
  if (pushTimeoutMs === undefined)
    problem(
      `${name("pushTimeout")} is ${JSON.stringify(settings.pushTimeout)}, which is not a duration: give e.g. 90s, 10m, 1h, 1h30m or a number of seconds (default 30m)`,
      "pushTimeout",
    );
  const parsed: ParsedSettings = {
    tags: settings.tags.length > 0 ? settings.tags : ["latest"],
    // Only read when there was no problem.
    pushTimeoutMs: pushTimeoutMs ?? 0,
  };
  if (settings.repo !== undefined && settings.repo.trim() !== "") {
    try {
      parsed.repository = parseRepository(settings.repo, name("repo"));
    } catch (error) {
      if (!(error instanceof UsageError)) throw error;
      problem(error.message, "repo");
    }
  }
  const badTags = settings.tags.filter((tag) => !TAG_PATTERN.test(tag));
  if (badTags.length > 0) {
    problem(
      `${name("tags")}: ${badTags.map((t) => JSON.stringify(t)).join(", ")} ${badTags.length === 1 ? "is not a valid tag" : "are not valid tags"}: ` +
        "a tag is up to 128 letters, digits, _ . - and starts with a letter, digit or _",
      "tags",
    );
  }
  if (settings.expectedDigest !== undefined) {
    if (SHA256_DIGEST.test(settings.expectedDigest)) parsed.expectedDigest = settings.expectedDigest;
    else
      problem(
        `${name("expectedDigest")} is "${settings.expectedDigest}": give the image digest as sha256:<64 lower-case hex digits>`,
        "expectedDigest",
      );
  }
  // The build's secrets, when the run builds (bake files and push-only take none of them).
  const builds = !settings.pushOnly && !settings.bakeFile;
  for (const key of builds ? (["secretsFromEnv", "secretsFromFile"] as const) : []) {
    try {
      secretArgs({ secretsFromEnv: [], secretsFromFile: [], [key]: settings[key] });
    } catch (error) {
      if (!(error instanceof UsageError)) throw error;
      problem(error.message, key);
    }
  }
  return parsed;
}
