/**
 * PLUGIN_REGISTRY_CA and PLUGIN_INSECURE with the `docker` driver: BuildKit inside the engine pulls and
 * pushes with the engine's own registry settings, which a build cannot change. The engine trusts a
 * registry's CA from `/etc/docker/certs.d/HOST/*.crt` (read at each connection, no restart), and talks to a
 * registry without verified TLS when daemon.json's `insecure-registries` lists it (loopback registries are
 * on that list by default). https://docs.docker.com/engine/security/certificates/ and
 * https://docs.docker.com/reference/cli/dockerd/#insecure-registries
 * The plugin started its own dockerd with `--insecure-registry`; this tool uses the runner's engine, so the
 * run says what that engine needs instead.
 */
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import type { Settings } from "../config/settings.js";
import { engineIsLocal } from "../engine/address.js";
import { isLoopbackHost } from "../reference/host.js";
import { buildRegistryHosts } from "./buildkitd-config.js";

const ENGINE_CERTS_DIR = "/etc/docker/certs.d";

/** The one line that says what the engine needs for `hosts`; undefined when neither setting is on. Pure. */
export function engineRegistryAdvice(
  settings: Pick<Settings, "registryCa" | "insecure">,
  hosts: readonly string[],
  certsDir = ENGINE_CERTS_DIR,
): string | undefined {
  if ((!settings.registryCa && !settings.insecure) || hosts.length === 0) return undefined;
  const needs: string[] = [];
  if (settings.registryCa) {
    needs.push(
      `PLUGIN_REGISTRY_CA's certificate as ${hosts.map((host) => join(certsDir, host, "ca.crt")).join(" and ")}`,
    );
  }
  if (settings.insecure) {
    const listed = hosts.filter((host) => !isLoopbackHost(host));
    if (listed.length > 0) {
      needs.push(`${listed.join(", ")} in "insecure-registries" of its daemon.json (then a restart)`);
    }
  }
  if (needs.length === 0) return undefined;
  return `the docker driver builds inside the engine, which uses its own registry settings, not PLUGIN_REGISTRY_CA or PLUGIN_INSECURE: it needs ${needs.join(", and ")} (or set PLUGIN_BUILDER_DRIVER=docker-container, whose builder this run configures)`;
}

/** The registries of `hosts` whose certs.d folder holds no `*.crt` (no CA the engine would trust). */
export async function hostsWithoutEngineCa(
  hosts: readonly string[],
  certsDir = ENGINE_CERTS_DIR,
): Promise<string[]> {
  const missing: string[] = [];
  for (const host of hosts) {
    const files = await readdir(join(certsDir, host)).catch(() => [] as string[]);
    if (!files.some((file) => file.endsWith(".crt"))) missing.push(host);
  }
  return missing;
}

interface AdviceContext {
  env: NodeJS.ProcessEnv;
  info: (message: string) => void;
  warn: (message: string) => void;
  certsDir?: string;
}

/**
 * Says what the build's BuildKit needs when it is not one this run creates: the engine's (docker driver),
 * or a builder the user named, which is used as it is. Warns when a local engine has no CA for a registry.
 */
export async function adviseOnRegistryTls(
  settings: Pick<
    Settings,
    "registryCa" | "insecure" | "repo" | "registry" | "baseImageRegistry" | "builderName"
  >,
  context: AdviceContext,
): Promise<void> {
  if (!settings.registryCa && !settings.insecure) return;
  const hosts = buildRegistryHosts(settings);
  const named = settings.builderName?.trim();
  if (named) {
    context.info(
      `PLUGIN_BUILDER_NAME=${named} is used as it is: PLUGIN_REGISTRY_CA and PLUGIN_INSECURE reach only a builder this run creates, so configure ${hosts.join(", ") || "the registry"} in that builder's buildkitd.toml`,
    );
    return;
  }
  const certsDir = context.certsDir ?? ENGINE_CERTS_DIR;
  const advice = engineRegistryAdvice(settings, hosts, certsDir);
  if (advice) context.info(advice);
  if (!settings.registryCa || !engineIsLocal(context.env)) return;
  for (const host of await hostsWithoutEngineCa(hosts, certsDir)) {
    context.warn(
      `this machine's engine has no CA for ${host} (no .crt file in ${join(certsDir, host)}): a build that pulls from or pushes to ${host} fails TLS verification unless PLUGIN_REGISTRY_CA is copied there as ca.crt`,
    );
  }
}
