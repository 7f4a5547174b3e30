/**
 * PLUGIN_REGISTRY_CA and PLUGIN_INSECURE for a builder this run creates: `[registry."HOST"]` sections of a
 * buildkitd.toml (https://github.com/moby/buildkit/blob/master/docs/buildkitd.toml.md), written in the
 * run's temporary folder and given to `docker buildx create --buildkitd-config`. buildx copies the `ca`
 * files into the builder and rewrites their paths (buildx util/confutil/container.go).
 * - PLUGIN_REGISTRY_CA: `ca = ["/abs/path"]`;
 * - PLUGIN_INSECURE: `http = true` with `insecure = true`: BuildKit 0.13 and later then try HTTPS without
 *   verification and fall back to plain HTTP (buildkit util/resolver/resolver.go `fillInsecureOpts`),
 *   which is what docker's `insecure-registries`, and so the plugin's `--insecure-registry`, allow.
 * The registries: the push registry (PLUGIN_REPO's host), PLUGIN_REGISTRY (the one the plugin's
 * `--insecure-registry` named; in bake mode the only one known before the build) and
 * PLUGIN_BASE_IMAGE_REGISTRY, never Docker Hub (a public registry needs no private CA, and skipping its TLS
 * checks would only weaken the build).
 *
 * A PLUGIN_BUILDER_CONFIG of the user's is kept: our section is appended for a registry their file does
 * not configure; one it does configure keeps their section only (the caller warns). Pure.
 */
import { buildkitdRegistryConfig } from "../auth/tls.js";
import type { Settings } from "../config/settings.js";
import { DOCKER_HUB, normalizeRegistryHost } from "../reference/host.js";
import { parseRepository } from "../reference/name.js";

type TlsSettings = Pick<Settings, "repo" | "baseImageRegistry" | "registryCa" | "insecure" | "registry">;

/** The registries PLUGIN_REGISTRY_CA and PLUGIN_INSECURE apply to in a build, Docker Hub left out. */
export function buildRegistryHosts(
  settings: Pick<Settings, "repo" | "registry" | "baseImageRegistry">,
): string[] {
  const hosts = new Set<string>();
  const repo = settings.repo?.trim();
  if (repo) {
    try {
      hosts.add(parseRepository(repo).host);
    } catch {
      // A bad PLUGIN_REPO is refused elsewhere, naming the setting.
    }
  }
  for (const registry of [settings.registry, settings.baseImageRegistry]) {
    if (registry?.trim()) hosts.add(normalizeRegistryHost(registry));
  }
  hosts.delete(DOCKER_HUB);
  return [...hosts];
}

/** A TOML key as written in a table header or a dotted key: `"a.b"`, `'a.b'` or bare `a`. */
const KEY = String.raw`(?:"((?:[^"\\]|\\.)*)"|'([^']*)'|([A-Za-z0-9_-]+))`;
const HEADER = new RegExp(String.raw`^\s*\[\[?\s*${KEY}\s*(?:\.\s*${KEY})?`);
const DOTTED_KEY = new RegExp(String.raw`^\s*${KEY}\s*(?:\.\s*${KEY})?\s*[.=]`);

function keyOf(match: RegExpExecArray, first: number): string | undefined {
  const value = match[first] ?? match[first + 1] ?? match[first + 2];
  return value === undefined ? undefined : value.replace(/\\"/g, '"');
}

/**
 * The registry hosts a buildkitd.toml configures: `[registry."HOST"]` (and its sub-tables), `HOST = ...` or
 * `HOST.key = ...` inside `[registry]`, and `registry."HOST".key = ...` before any table. Hosts normalised
 * as registry names (`Docker.IO` is `docker.io`). Not a full TOML reader: keys inside multi-line strings
 * could be taken for tables, which only makes a section count as the user's.
 */
export function configuredRegistryHosts(toml: string): Set<string> {
  const hosts = new Set<string>();
  let table: string[] = [];
  for (const line of toml.split(/\r?\n/)) {
    if (/^\s*(#|$)/.test(line)) continue;
    const header = HEADER.exec(line);
    if (header) {
      const first = keyOf(header, 1);
      const second = keyOf(header, 4);
      table = [first ?? "", ...(second !== undefined ? [second] : [])];
      if (first === "registry" && second !== undefined) hosts.add(normalizeRegistryHost(second));
      continue;
    }
    const dotted = DOTTED_KEY.exec(line);
    if (!dotted) continue;
    const first = keyOf(dotted, 1);
    const second = keyOf(dotted, 4);
    if (table.length === 0 && first === "registry" && second !== undefined)
      hosts.add(normalizeRegistryHost(second));
    if (table.length === 1 && table[0] === "registry" && first !== undefined)
      hosts.add(normalizeRegistryHost(first));
  }
  return hosts;
}

interface BuilderTlsConfig {
  /** The buildkitd.toml text to write for the builder; undefined when the user's file (or none) serves as is. */
  text?: string;
  /** Registries whose section this run adds. */
  added: string[];
  /** Registries the user's PLUGIN_BUILDER_CONFIG configures already: theirs is used, ours not added. */
  theirs: string[];
}

/** The builder's buildkitd.toml for PLUGIN_REGISTRY_CA / PLUGIN_INSECURE, merged with the user's file. */
export function builderTlsConfig(
  settings: TlsSettings,
  userConfig: string | undefined,
  options: { cwd: string },
): BuilderTlsConfig {
  const result: BuilderTlsConfig = { added: [], theirs: [] };
  if (!settings.registryCa && !settings.insecure) return result;
  const configured = userConfig === undefined ? new Set<string>() : configuredRegistryHosts(userConfig);
  const sections: string[] = [];
  for (const host of buildRegistryHosts(settings)) {
    if (configured.has(host)) {
      result.theirs.push(host);
      continue;
    }
    sections.push(buildkitdRegistryConfig(settings, { hosts: [host], cwd: options.cwd }));
    result.added.push(host);
  }
  if (sections.length === 0) return result;
  const ours = `# PLUGIN_REGISTRY_CA / PLUGIN_INSECURE (added by buildx-step)\n${sections.join("\n")}`;
  if (userConfig === undefined) {
    result.text = ours;
  } else {
    const separator = userConfig === "" || userConfig.endsWith("\n") ? "" : "\n";
    result.text = `${userConfig}${separator}\n${ours}`;
  }
  return result;
}
