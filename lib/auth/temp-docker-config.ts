/**
 * The docker config a build runs with: a temporary `DOCKER_CONFIG` folder (0700) whose `config.json` (0600)
 * holds the logins buildx needs (the push registry, the base-image registry, an ECR token) and keeps the
 * user's other logins and credential helpers for every other registry (FROM images, caches). Removed when
 * the build is done, and at the latest when the process exits.
 *
 * buildx reads logins through docker's config file code, where a `credsStore` applies to every registry
 * that has no `credHelpers` entry; an entry with an empty helper name selects the plain `auths` of the file
 * for that registry (https://github.com/docker/cli/blob/master/cli/config/configfile/file.go,
 * getConfiguredCredentialStore). So a login written here wins over the user's store for its registry only.
 */
import { rmSync } from "node:fs";
import { chmod, mkdtemp, rm, stat, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Settings } from "../config/settings.js";
import type { Logger } from "../log.js";
import { registryHostOf } from "../reference/host.js";
import type { Credential, CredentialSource } from "../registry/credential.js";
import {
  type DockerAuthEntry,
  type DockerConfigFile,
  loadPluginConfig,
  loadUserDockerConfig,
  userDockerConfigDir,
} from "./docker-config.js";
import { ecrRegistryOf } from "./ecr-registry.js";
import { credentialHost, dockerConfigKey } from "./hosts.js";

/** Keys rebuilt here; every other key of the user's config (proxies, currentContext, ...) is kept. */
const CREDENTIAL_KEYS = new Set(["auths", "credsStore", "credHelpers"]);

/** A credential as a config `auths` entry. Pure. */
export function authEntryFor(credential: Credential): DockerAuthEntry {
  const entry: DockerAuthEntry = {};
  if (credential.username || credential.password) {
    entry.auth = Buffer.from(`${credential.username ?? ""}:${credential.password ?? ""}`).toString("base64");
  }
  if (credential.identityToken) entry.identitytoken = credential.identityToken;
  if (credential.registryToken) entry.registrytoken = credential.registryToken;
  return entry;
}

/**
 * The temporary config: the base configs merged (earlier ones win, as the credential source looks them up),
 * then `logins` written into `auths`, each pinned to the file store so a `credsStore` does not shadow it. Pure.
 */
export function mergeDockerConfig(
  bases: DockerConfigFile[],
  logins: Map<string, Credential>,
): DockerConfigFile {
  const merged: DockerConfigFile = {};
  const auths: Record<string, DockerAuthEntry> = {};
  const credHelpers: Record<string, string> = {};
  let credsStore: string | undefined;
  // Lowest precedence first, so that later assignments (higher precedence) win.
  for (const base of [...bases].reverse()) {
    for (const [key, value] of Object.entries(base)) {
      if (!CREDENTIAL_KEYS.has(key)) merged[key] = value;
    }
    for (const [key, entry] of Object.entries(base.auths ?? {})) {
      // Drop the other spellings of the same registry, so docker cannot pick a stale one.
      for (const existing of Object.keys(auths)) {
        if (credentialHost(existing) === credentialHost(key)) delete auths[existing];
      }
      auths[key] = entry;
    }
    Object.assign(credHelpers, base.credHelpers ?? {});
    if (base.credsStore) credsStore = base.credsStore;
  }
  for (const [host, credential] of logins) {
    const key = dockerConfigKey(host);
    for (const existing of Object.keys(auths)) {
      if (credentialHost(existing) === credentialHost(host)) delete auths[existing];
    }
    for (const existing of Object.keys(credHelpers)) {
      if (credentialHost(existing) === credentialHost(host)) delete credHelpers[existing];
    }
    auths[key] = authEntryFor(credential);
    if (credsStore) credHelpers[key] = "";
  }
  merged.auths = auths;
  if (Object.keys(credHelpers).length > 0) merged.credHelpers = credHelpers;
  if (credsStore) merged.credsStore = credsStore;
  return merged;
}

/** The registries a build logs in to: the push registry, the base-image registry, the ECR registry. Pure. */
export function buildLoginHosts(
  settings: Pick<Settings, "registry" | "repo" | "registryType" | "region" | "baseImageRegistry">,
): string[] {
  const hosts = new Set<string>();
  if (settings.registry?.trim()) hosts.add(credentialHost(settings.registry));
  const repoHost = registryHostOf(settings.repo);
  if (repoHost !== undefined) hosts.add(credentialHost(repoHost));
  if (settings.baseImageRegistry?.trim()) hosts.add(credentialHost(settings.baseImageRegistry));
  const ecr = ecrRegistryOf(settings);
  if (ecr) hosts.add(ecr.host);
  return [...hosts];
}

export interface TempDockerConfig {
  /** The folder to use as DOCKER_CONFIG. */
  dir: string;
  /** Environment for the build's processes: DOCKER_CONFIG, and BUILDX_CONFIG so buildx keeps its builders. */
  env: Record<string, string>;
  /** Removes the folder (also done at process exit). */
  remove(): Promise<void>;
}

export interface TempDockerConfigOptions {
  settings: Settings;
  source: CredentialSource;
  env: NodeJS.ProcessEnv;
  logger: Logger;
  /** Registries to log in to; default: buildLoginHosts(settings). */
  hosts?: string[];
  /** Relative PLUGIN_CONFIG paths resolve against this. */
  cwd?: string;
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

/** Writes the temporary docker config. The caller removes it when the build is done. */
export async function writeTempDockerConfig(options: TempDockerConfigOptions): Promise<TempDockerConfig> {
  const { settings, source, env, logger } = options;
  const userDir = userDockerConfigDir(env);
  const bases: DockerConfigFile[] = [];
  const plugin = await loadPluginConfig(settings.config, options.cwd ?? process.cwd());
  if (plugin) bases.push(plugin.config);
  const user = await loadUserDockerConfig(env);
  if (user) bases.push(user.config);

  const logins = new Map<string, Credential>();
  for (const host of options.hosts ?? buildLoginHosts(settings)) {
    const credential = await source(host);
    if (credential) logins.set(host, credential);
  }
  const config = mergeDockerConfig(bases, logins);
  // buildx is a CLI plugin: keep finding plugins installed in the user's config folder.
  const userPlugins = join(userDir, "cli-plugins");
  if (await exists(userPlugins)) {
    const extra = Array.isArray(config.cliPluginsExtraDirs) ? (config.cliPluginsExtraDirs as string[]) : [];
    config.cliPluginsExtraDirs = [...extra, userPlugins];
  }

  const dir = await mkdtemp(join(tmpdir(), "buildx-step-docker-config-"));
  await chmod(dir, 0o700);
  const removeNow = () => rmSync(dir, { recursive: true, force: true });
  process.once("exit", removeNow);
  try {
    const file = join(dir, "config.json");
    await writeFile(file, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
    await chmod(file, 0o600);
    // docker contexts live in the config folder: link them so a `currentContext` still resolves.
    if (await exists(join(userDir, "contexts")))
      await symlink(join(userDir, "contexts"), join(dir, "contexts"));
  } catch (error) {
    removeNow();
    process.removeListener("exit", removeNow);
    throw error;
  }
  logger.debug(
    `temporary docker config ${dir}: logins for ${[...logins.keys()].join(", ") || "no registry"}`,
  );
  const runEnv: Record<string, string> = { DOCKER_CONFIG: dir };
  runEnv.BUILDX_CONFIG =
    env.BUILDX_CONFIG && env.BUILDX_CONFIG !== "" ? env.BUILDX_CONFIG : join(userDir, "buildx");
  return {
    dir,
    env: runEnv,
    async remove() {
      process.removeListener("exit", removeNow);
      await rm(dir, { recursive: true, force: true });
    },
  };
}
