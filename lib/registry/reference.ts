/**
 * Image names as docker reads them: `[host[:port]/]path`, with Docker Hub's defaults filled in.
 * Pure functions; the grammar is distribution's reference package:
 * https://github.com/distribution/reference/blob/main/reference.go
 */
import { UsageError } from "../errors.js";

/** Docker Hub as it appears in image references and in docker config keys. */
export const DOCKER_HUB = "docker.io";
/** Docker Hub's registry API endpoint (`docker.io` itself serves no /v2/). */
export const DOCKER_HUB_ENDPOINT = "registry-1.docker.io";

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
/** The digests registries serve and PLUGIN_EXPECTED_DIGEST accepts. */
export const SHA256_DIGEST = /^sha256:[a-f0-9]{64}$/;
const DIGEST = /^sha256:[a-f0-9]{64}$/;
const HUB_ALIASES = new Set([
  "docker.io",
  "index.docker.io",
  "registry-1.docker.io",
  "registry.hub.docker.com",
]);

/** A registry as users write it (`https://index.docker.io/v1/`, `ghcr.io`, `localhost:5000`) as `host[:port]`. */
export function normalizeRegistryHost(registry: string): string {
  let host = registry.trim().replace(/^[a-z][a-z0-9+.-]*:\/\//i, "");
  host = host.split("/")[0] ?? "";
  host = host.toLowerCase();
  return HUB_ALIASES.has(host) ? DOCKER_HUB : host;
}

/** The API endpoint for a registry host. */
export function registryEndpoint(host: string): string {
  return host === DOCKER_HUB ? DOCKER_HUB_ENDPOINT : host;
}

/** Whether the first component of a name is a registry host (docker's rule: a dot, a port, or localhost). */
function looksLikeHost(component: string): boolean {
  return component.includes(".") || component.includes(":") || component === "localhost";
}

/**
 * distribution's grammar of a registry host (reference/regexp.go `domainAndPort`): dot-separated
 * components of letters, digits and inner hyphens, or an IPv6 literal in brackets; an optional port.
 */
const REGISTRY_HOST =
  /^(?:(?:[a-z0-9]|[a-z0-9][a-z0-9-]*[a-z0-9])(?:\.(?:[a-z0-9]|[a-z0-9][a-z0-9-]*[a-z0-9]))*|\[[a-f0-9:]+\])(?::[0-9]+)?$/i;

/**
 * Whether `host` is a registry host by that grammar. Anything else is refused, not sent: a URL reads
 * `evil.example#.gcr.io` or `evil.example?.azurecr.io` as the host `evil.example`, while a host-name
 * rule (which registry a cloud login belongs to) reads the whole string and sees Google's or Azure's.
 */
export function isRegistryHost(host: string): boolean {
  return REGISTRY_HOST.test(host);
}

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
  if (parts.length > 1 && looksLikeHost(parts[0] ?? "")) {
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
    if (!DIGEST.test(digest)) return undefined;
  }
  let tag: string | undefined;
  const slash = rest.lastIndexOf("/");
  const colon = rest.lastIndexOf(":");
  if (colon > slash) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG_PATTERN.test(tag)) return undefined;
  }
  try {
    return { repository: parseRepository(rest), tag, digest };
  } catch {
    return undefined;
  }
}

/** Whether `tag` is a valid tag; the error names `setting` and the tag. */
export function checkTag(tag: string, setting = "PLUGIN_TAGS"): void {
  if (!TAG_PATTERN.test(tag)) {
    throw new UsageError(
      `${setting}: "${tag}" is not a valid tag (letters, digits, _ . -, at most 128, not starting with . or -)`,
    );
  }
}

/** Whether a host is loopback (`localhost`, `127.0.0.0/8`, `::1`): docker allows plain HTTP there. */
export function isLoopbackHost(host: string): boolean {
  let name = host;
  if (name.startsWith("[")) name = name.slice(1, name.indexOf("]"));
  else name = name.replace(/:\d+$/, "");
  return name === "localhost" || name === "::1" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(name);
}
