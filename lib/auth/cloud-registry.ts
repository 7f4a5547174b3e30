/**
 * The run's Google (GCR, Artifact Registry) or Azure (ACR) registry: the one host the cloud logins of the
 * plugin's wrappers (drone-buildx-gcr, -gar, -acr) are for. Those wrappers log in to `PLUGIN_REGISTRY` only,
 * so a JSON key or a service principal goes to that host and to no other. Pure, and free of any cloud code,
 * so that runs that push elsewhere load nothing more.
 */
import { registryKindOf } from "../config/registry-kind.js";
import type { Settings } from "../config/settings.js";
import { registryHostOf } from "../reference/host.js";
import { credentialHost, namedRegistry } from "./hosts.js";

type CloudKind = "gcr" | "gar" | "acr";

export interface CloudRegistry {
  kind: CloudKind;
  /** `host[:port]` the login is for (normalised, as credentials are looked up). */
  host: string;
  /** Why the registry is of that kind, for messages: `PLUGIN_REGISTRY_TYPE=gar`, `the GCR host in PLUGIN_REGISTRY`. */
  because: string;
}

/**
 * The run's GCR, GAR or ACR registry, or undefined. `PLUGIN_REGISTRY` (the wrappers' login server) when the
 * user named one, its kind from `PLUGIN_REGISTRY_TYPE` or its host; without `PLUGIN_REGISTRY` (whose default,
 * Docker Hub, is no cloud registry) the registry of `PLUGIN_REPO`, where the wrappers' default registry
 * (`gcr.io`, `LOCATION-docker.pkg.dev`) would have led. Pure.
 */
export function cloudRegistryOf(
  settings: Pick<Settings, "registry" | "repo" | "registryType">,
): CloudRegistry | undefined {
  const fromSetting = namedRegistry(settings.registry);
  const named = fromSetting ?? registryHostOf(settings.repo?.trim());
  if (!named) return undefined;
  const kind = registryKindOf(settings.registryType, named);
  if (!kind || kind.kind === "ecr") return undefined;
  const because =
    fromSetting || settings.registryType?.trim()
      ? kind.because
      : `the ${kind.kind.toUpperCase()} host in PLUGIN_REPO`;
  return { kind: kind.kind, host: credentialHost(named), because };
}
