/**
 * docker's client config file (`config.json`): `auths`, `credsStore`, `credHelpers`, read the way docker's CLI
 * reads them (https://github.com/docker/cli/blob/master/cli/config/configfile/file.go), and `PLUGIN_CONFIG`
 * (the same JSON inline, or a path to it).
 */
import { readFile } from "node:fs/promises";
import { homedir } from "node:os";
import { isAbsolute, join, resolve } from "node:path";
import { UsageError } from "../errors.js";
import type { Credential } from "../registry/credential.js";
import { credentialHost, dockerConfigKey } from "./hosts.js";

/** One `auths` entry. `auth` is base64("user:password"). */
export interface DockerAuthEntry {
  auth?: string;
  username?: string;
  password?: string;
  identitytoken?: string;
  registrytoken?: string;
  email?: string;
}

export interface DockerConfigFile {
  auths?: Record<string, DockerAuthEntry>;
  credsStore?: string;
  credHelpers?: Record<string, string>;
  /** Other keys (proxies, currentContext, ...) are kept as they are. */
  [key: string]: unknown;
}

/** A parsed config and where it came from, for messages. */
export interface LoadedDockerConfig {
  config: DockerConfigFile;
  /** A file path, or `PLUGIN_CONFIG` for inline JSON. */
  origin: string;
  /** The folder of the config file (DOCKER_CONFIG), when it is a file. */
  dir?: string;
}

/**
 * Parses config JSON. Pure. Errors name `origin` and never quote the text: it holds passwords.
 */
export function parseDockerConfig(text: string, origin: string): DockerConfigFile {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    // JSON.parse's message can quote the text around the error: keep only its position.
    const position = /position (\d+)/.exec((error as Error).message)?.[1];
    throw new UsageError(
      `${origin} is not valid JSON${position ? ` (at character ${position})` : ""}: it must be a docker config like {"auths": {"registry.example.com": {"auth": "..."}}}`,
    );
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new UsageError(`${origin} must be a JSON object (a docker config.json)`);
  }
  const config = value as DockerConfigFile;
  const checkMap = (key: "auths" | "credHelpers") => {
    const map = config[key];
    if (map !== undefined && (typeof map !== "object" || map === null || Array.isArray(map))) {
      throw new UsageError(`${origin}: "${key}" must be an object keyed by registry`);
    }
  };
  checkMap("auths");
  checkMap("credHelpers");
  if (config.credsStore !== undefined && typeof config.credsStore !== "string") {
    throw new UsageError(`${origin}: "credsStore" must be a helper name`);
  }
  return config;
}

/**
 * `PLUGIN_CONFIG`: docker config JSON, or the path of a file holding it (relative to `cwd`).
 * Undefined when unset.
 */
export async function loadPluginConfig(
  value: string | undefined,
  cwd: string,
): Promise<LoadedDockerConfig | undefined> {
  if (value === undefined || value.trim() === "") return undefined;
  const trimmed = value.trim();
  if (trimmed.startsWith("{")) {
    return {
      config: parseDockerConfig(trimmed, "PLUGIN_CONFIG"),
      origin: "PLUGIN_CONFIG",
    };
  }
  const path = isAbsolute(trimmed) ? trimmed : resolve(cwd, trimmed);
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    throw new UsageError(
      `PLUGIN_CONFIG: cannot read docker config file ${path} (${(error as NodeJS.ErrnoException).code ?? "error"}): give the config JSON itself or the path of a readable file`,
    );
  }
  return {
    config: parseDockerConfig(text, `PLUGIN_CONFIG file ${path}`),
    origin: path,
  };
}

/** The user's docker config folder: `DOCKER_CONFIG`, else `~/.docker`. */
export function userDockerConfigDir(env: NodeJS.ProcessEnv): string {
  if (env.DOCKER_CONFIG && env.DOCKER_CONFIG.trim() !== "") return env.DOCKER_CONFIG;
  return join(env.HOME && env.HOME !== "" ? env.HOME : homedir(), ".docker");
}

/** The user's `config.json`; undefined when there is none (docker then has no logins either). */
export async function loadUserDockerConfig(env: NodeJS.ProcessEnv): Promise<LoadedDockerConfig | undefined> {
  const dir = userDockerConfigDir(env);
  const path = join(dir, "config.json");
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw new UsageError(
      `cannot read the docker config ${path} (${(error as NodeJS.ErrnoException).code ?? "error"}); fix its permissions or set DOCKER_CONFIG to another folder`,
    );
  }
  if (text.trim() === "") return { config: {}, origin: path, dir };
  return {
    config: parseDockerConfig(text, `docker config ${path}`),
    origin: path,
    dir,
  };
}

/**
 * The value of `map` for a registry: the exact docker key first, then any key naming the same host
 * (`https://host/v1/`, `http://host`, `host`), as docker's file store does.
 */
export function lookupByRegistry<T>(map: Record<string, T> | undefined, registry: string): T | undefined {
  if (!map) return undefined;
  const key = dockerConfigKey(registry);
  if (Object.hasOwn(map, key)) return map[key];
  const host = credentialHost(registry);
  for (const [candidate, value] of Object.entries(map)) {
    if (credentialHost(candidate) === host) return value;
  }
  return undefined;
}

/** The credentials an `auths` entry holds; undefined when it holds none (docker writes `{}` beside a store). */
export function credentialFromAuthEntry(
  entry: DockerAuthEntry | undefined,
  origin: string,
): Credential | undefined {
  if (!entry || typeof entry !== "object") return undefined;
  const credential: Credential = {};
  if (typeof entry.auth === "string" && entry.auth !== "") {
    const decoded = Buffer.from(entry.auth, "base64").toString("utf8");
    const colon = decoded.indexOf(":");
    if (colon < 0) {
      throw new UsageError(`${origin}: an "auth" value is not base64 of "user:password"`);
    }
    credential.username = decoded.slice(0, colon);
    credential.password = decoded.slice(colon + 1);
  } else {
    if (typeof entry.username === "string" && entry.username !== "") credential.username = entry.username;
    if (typeof entry.password === "string" && entry.password !== "") credential.password = entry.password;
  }
  if (typeof entry.identitytoken === "string" && entry.identitytoken !== "") {
    credential.identityToken = entry.identitytoken;
  }
  if (typeof entry.registrytoken === "string" && entry.registrytoken !== "") {
    credential.registryToken = entry.registrytoken;
  }
  const hasSecret = credential.password || credential.identityToken || credential.registryToken;
  return hasSecret ? credential : undefined;
}

/** The helper docker would ask for a registry: its `credHelpers` entry, else `credsStore`. `""` means none. */
export function helperFor(config: DockerConfigFile, registry: string): string | undefined {
  const specific = lookupByRegistry(config.credHelpers, registry);
  if (specific !== undefined) return specific === "" ? undefined : specific;
  return config.credsStore && config.credsStore !== "" ? config.credsStore : undefined;
}

/** Every secret written in a config, to register for masking. */
export function secretsInConfig(config: DockerConfigFile): string[] {
  const secrets: string[] = [];
  for (const entry of Object.values(config.auths ?? {})) {
    if (!entry || typeof entry !== "object") continue;
    for (const value of [entry.auth, entry.password, entry.identitytoken, entry.registrytoken]) {
      if (typeof value === "string" && value !== "") secrets.push(value);
    }
    if (typeof entry.auth === "string" && entry.auth !== "") {
      const decoded = Buffer.from(entry.auth, "base64").toString("utf8");
      const colon = decoded.indexOf(":");
      if (colon >= 0) secrets.push(decoded.slice(colon + 1));
    }
  }
  return secrets;
}
