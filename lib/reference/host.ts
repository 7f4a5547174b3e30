/**
 * Registry hosts as docker reads them in image names and registry settings. A leaf: every layer (config,
 * auth, registry, daemon, archive, modes) asks these questions, and nothing here asks any of them.
 * The grammar is distribution's reference package: https://github.com/distribution/reference/blob/main/reference.go
 */

/** Docker Hub as it appears in image references and in docker config keys. */
export const DOCKER_HUB = "docker.io";
/** Docker Hub's registry API endpoint (`docker.io` itself serves no /v2/). */
const DOCKER_HUB_ENDPOINT = "registry-1.docker.io";

/** The names users and config files give Docker Hub; each is `docker.io` once normalised. */
const HUB_ALIASES = new Set([DOCKER_HUB, "index.docker.io", DOCKER_HUB_ENDPOINT, "registry.hub.docker.com"]);

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

/**
 * The first component of an image name when docker reads it as a registry host (a dot, a port or
 * `localhost`, and a `/` after it), as written; undefined for a Docker Hub name (`app`, `team/app`).
 * The name is taken as given: callers that trim the setting trim before asking.
 */
export function registryHostOf(name: string | undefined): string | undefined {
  const first = name?.includes("/") ? name.slice(0, name.indexOf("/")) : "";
  return first.includes(".") || first.includes(":") || first === "localhost" ? first : undefined;
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

/** Whether a host is loopback (`localhost`, `127.0.0.0/8`, `::1`): docker allows plain HTTP there. */
export function isLoopbackHost(host: string): boolean {
  let name = host;
  if (name.startsWith("[")) name = name.slice(1, name.indexOf("]"));
  else name = name.replace(/:\d+$/, "");
  return name === "localhost" || name === "::1" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(name);
}
