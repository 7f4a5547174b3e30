/**
 * TLS towards registries for builds: a private CA (`PLUGIN_REGISTRY_CA`, a PEM file; `NODE_EXTRA_CA_CERTS`)
 * and `PLUGIN_INSECURE` (plain HTTP, or TLS without verification) as `[registry."host"]` sections of
 * buildkitd.toml (https://github.com/moby/buildkit/blob/master/docs/buildkitd.toml.md). The registry
 * client reads the same settings in lib/registry/transport.ts.
 */
import { isAbsolute, resolve } from "node:path";
import type { Settings } from "../config/settings.js";
import { registryHostOf } from "../reference/host.js";
import { credentialHost } from "./hosts.js";

type TlsSettings = Pick<Settings, "registry" | "repo" | "registryCa" | "insecure">;

function absolute(path: string, cwd: string): string {
  return isAbsolute(path) ? path : resolve(cwd, path);
}

function tomlString(value: string): string {
  return JSON.stringify(value);
}

interface BuildkitdRegistryOptions {
  /** Registries the settings apply to (default: PLUGIN_REGISTRY, else the registry of PLUGIN_REPO). */
  hosts?: string[];
  /** The environment: its NODE_EXTRA_CA_CERTS is trusted too (default: none). */
  env?: NodeJS.ProcessEnv;
  /** Relative paths resolve against this (default: the process's cwd). */
  cwd?: string;
}

/** The registries PLUGIN_INSECURE and PLUGIN_REGISTRY_CA apply to: the push registry. Pure. */
export function tlsRegistryHosts(settings: Pick<Settings, "registry" | "repo">): string[] {
  if (settings.registry?.trim()) return [credentialHost(settings.registry)];
  const repoHost = registryHostOf(settings.repo);
  return repoHost === undefined ? [] : [credentialHost(repoHost)];
}

/**
 * buildkitd.toml sections for a builder that BuildKit runs (docker-container, remote, kubernetes drivers):
 * `http`/`insecure` for PLUGIN_INSECURE, `ca` for the CA files. Empty text when there is nothing to say.
 * buildx copies the `ca` files into a docker-container builder. The `docker` driver uses the engine's own
 * registry settings (daemon.json `insecure-registries`, /etc/docker/certs.d) instead. Pure.
 */
export function buildkitdRegistryConfig(
  settings: TlsSettings,
  options: BuildkitdRegistryOptions = {},
): string {
  const cwd = options.cwd ?? process.cwd();
  const hosts = options.hosts ?? tlsRegistryHosts(settings);
  const extra = options.env?.NODE_EXTRA_CA_CERTS;
  const caFiles = [
    ...(settings.registryCa ? [absolute(settings.registryCa, cwd)] : []),
    ...(extra ? [absolute(extra, cwd)] : []),
  ];
  if (hosts.length === 0 || (!settings.insecure && caFiles.length === 0)) return "";
  const sections = hosts.map((host) => {
    const lines = [`[registry.${tomlString(host)}]`];
    if (settings.insecure) lines.push("  http = true", "  insecure = true");
    if (caFiles.length > 0) lines.push(`  ca = [${caFiles.map(tomlString).join(", ")}]`);
    return lines.join("\n");
  });
  return `${sections.join("\n\n")}\n`;
}
