/**
 * Image names as docker reads them: `[host[:port]/]path`, with Docker Hub's defaults filled in.
 * Pure functions; the grammar is distribution's reference package:
 * https://github.com/distribution/reference/blob/main/reference.go
 */
import { UsageError } from "../errors.js";
import { SHA256_DIGEST } from "./digest.js";
import {
  DOCKER_HUB,
  isRegistryHost,
  normalizeRegistryHost,
  registryEndpoint,
  registryHostOf,
} from "./host.js";

export interface RepositoryName {
  /** The registry as in the reference (`docker.io` for Docker Hub): the key for credentials. */
  host: string;
  /** Where the registry API answers: `registry-1.docker.io` for Docker Hub, else `host`. */
  endpoint: string;
  /** The repository path inside the registry, e.g. `library/alpine`, `team/app`. */
  path: string;
  /** `host/path` in full, e.g. `docker.io/library/alpine`. */
  full: string;
}

const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
/** The OCI distribution spec's tag grammar. */
export const TAG_PATTERN = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/;

/**
 * Parses a repository name without tag or digest (`PLUGIN_REPO`). `setting` names the setting in errors.
 * `app` is `docker.io/library/app`; `org/app` is `docker.io/org/app`; `host:5000/app` is on `host:5000`.
 */
export function parseRepository(name: string, setting = "PLUGIN_REPO"): RepositoryName {
  const trimmed = name.trim();
  if (trimmed === "")
    throw new UsageError(`${setting} is empty: set it to the image name, e.g. registry.example.com/team/app`);
  // A colon in the last component is a tag (a port can only be in the first of several).
  if (trimmed.includes("@") || (trimmed.split("/").pop() ?? "").includes(":")) {
    throw new UsageError(
      `${setting} "${trimmed}" has a tag or digest: give the repository only and put tags in PLUGIN_TAGS`,
    );
  }
  const parts = trimmed.split("/");
  let host = DOCKER_HUB;
  if (registryHostOf(trimmed) !== undefined) {
    host = normalizeRegistryHost(parts.shift() ?? "");
    if (!isRegistryHost(host)) {
      throw new UsageError(
        `${setting} "${trimmed}" does not start with a registry host: "${host}" must be letters, digits, - and . (or an [IPv6] address), with an optional :port`,
      );
    }
  }
  if (host === DOCKER_HUB && parts.length === 1) parts.unshift("library");
  for (const part of parts) {
    if (!PATH_COMPONENT.test(part)) {
      throw new UsageError(
        `${setting} "${trimmed}" is not a valid repository name: "${part}" must be lower-case letters, digits and single . _ - separators`,
      );
    }
  }
  const path = parts.join("/");
  if (host.length + 1 + path.length > 255) {
    throw new UsageError(`${setting} "${trimmed}" is longer than 255 characters`);
  }
  return { host, endpoint: registryEndpoint(host), path, full: `${host}/${path}` };
}

/**
 * Parses a full image reference (`name[:tag][@digest]`), as recorded inside a tarball, into its
 * repository and tag/digest; undefined when it is not a valid reference.
 */
export function parseImageReference(
  reference: string,
): { repository: RepositoryName; tag?: string; digest?: string } | undefined {
  let rest = reference.trim();
  let digest: string | undefined;
  const at = rest.indexOf("@");
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!SHA256_DIGEST.test(digest)) return undefined;
  }
  const { name, tag } = splitTag(rest);
  if (tag !== undefined && !TAG_PATTERN.test(tag)) return undefined;
  try {
    return { repository: parseRepository(name), tag, digest };
  } catch {
    return undefined;
  }
}

/** `name[:tag]` split at the tag's colon (a colon before the last `/` is a registry port); nothing is checked. */
export function splitTag(reference: string): { name: string; tag?: string } {
  const slash = reference.lastIndexOf("/");
  const colon = reference.lastIndexOf(":");
  if (colon > slash) return { name: reference.slice(0, colon), tag: reference.slice(colon + 1) };
  return { name: reference };
}

/**
 * A valid tag reference as `host/path:tag` in full (`latest` when it has no tag), so that `app:1` and
 * `docker.io/library/app:1` are one name; undefined for a digest reference or an invalid one.
 */
export function fullTaggedName(reference: string): string | undefined {
  const parsed = parseImageReference(reference);
  if (!parsed || parsed.digest) return undefined;
  return `${parsed.repository.full}:${parsed.tag ?? "latest"}`;
}

/**
 * docker's familiar-name expansion as text: `app:1` -> `docker.io/library/app:1`, `x/app:1` ->
 * `docker.io/x/app:1`, no tag or digest -> `:latest`. Unlike {@link fullTaggedName} it checks nothing and
 * keeps the host as written: it compares the names an archive records, which may be anything.
 */
export function canonicalImageName(name: string): string {
  let full = registryHostOf(name) !== undefined ? name : `${DOCKER_HUB}/${name}`;
  const hubPath = full.startsWith(`${DOCKER_HUB}/`) ? full.slice(DOCKER_HUB.length + 1) : undefined;
  if (hubPath !== undefined && !hubPath.includes("/")) full = `${DOCKER_HUB}/library/${hubPath}`;
  const last = full.slice(full.lastIndexOf("/") + 1);
  if (splitTag(full).tag === undefined && !last.includes("@")) full = `${full}:latest`;
  return full;
}
