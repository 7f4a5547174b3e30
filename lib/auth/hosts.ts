/**
 * Registry names as credentials are keyed. Users and config files spell one registry several ways
 * (`https://index.docker.io/v1/`, `docker.io`, `index.docker.io`, `registry-1.docker.io`, `http://host:5000/`);
 * lookups compare the normalised `host[:port]`, the way docker's CLI compares config keys after
 * `ConvertToHostname` (https://github.com/docker/cli/blob/master/cli/config/credentials/file_store.go).
 */
import { DOCKER_HUB, normalizeRegistryHost } from "../reference/host.js";

/**
 * The key docker uses for Docker Hub in `auths`, `credHelpers` and on a credential helper's stdin: the
 * old index address, kept by docker for compatibility (https://github.com/docker/cli/blob/master/cli/registry/client/endpoint.go
 * and `registry.IndexServer` in moby).
 */
export const DOCKER_HUB_CONFIG_KEY = "https://index.docker.io/v1/";

/** `host[:port]` in lower case, Docker Hub's names as `docker.io`; `""` and undefined mean Docker Hub. */
export function credentialHost(registry: string | undefined): string {
  if (registry === undefined || registry.trim() === "") return DOCKER_HUB;
  return normalizeRegistryHost(registry);
}

/**
 * A registry the user named (`PLUGIN_REGISTRY`, as written), or undefined when it is unset or Docker Hub:
 * its default, which is never a cloud registry.
 */
export function namedRegistry(registry: string | undefined): string | undefined {
  return registry?.trim() && credentialHost(registry) !== DOCKER_HUB ? registry : undefined;
}

/** Whether two registry names, spelled any way docker accepts, are the same registry. */
export function sameRegistry(a: string, b: string): boolean {
  return credentialHost(a) === credentialHost(b);
}

/** The key docker writes for a registry in a config file and sends to a credential helper. */
export function dockerConfigKey(registry: string): string {
  const host = credentialHost(registry);
  return host === DOCKER_HUB ? DOCKER_HUB_CONFIG_KEY : host;
}
