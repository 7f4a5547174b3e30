/**
 * The one answer to "what credentials for registry host H" for a run, used by the registry client, the
 * daemon path and the build's temporary docker config. Sources, first match wins:
 *
 * 1. `PLUGIN_USERNAME`/`PLUGIN_PASSWORD` for `PLUGIN_REGISTRY` (Docker Hub when unset);
 * 2. the base-image login (`PLUGIN_BASE_IMAGE_USERNAME`/`_PASSWORD`) for `PLUGIN_BASE_IMAGE_REGISTRY`;
 * 3. an ECR token for the run's ECR registry (see ecr.ts), unless 1 already gave a login for it;
 * 4. the cloud login for the run's GCR, GAR or ACR registry (`PLUGIN_JSON_KEY`, `ACCESS_TOKEN`, an Azure
 *    service principal: see cloud-login.ts), for that registry's host only, unless 1 already gave a login
 *    for it; ACR's service principal is exchanged for a registry token on first use (acr-login.ts);
 * 5. `PLUGIN_CONFIG` (auths, credHelpers, credsStore);
 * 6. the user's docker config (`DOCKER_CONFIG` or `~/.docker/config.json`), with its helpers;
 * 7. nothing: anonymous.
 */
import type { Settings } from "../config/settings.js";
import type { Logger } from "../log.js";
import type { Credential, CredentialSource } from "../registry/credential.js";
import type { AwsCredentialProvider } from "./aws-credentials.js";
import { type CloudLogin, cloudLoginOf } from "./cloud-login.js";
import { CredentialHelperMissing, getFromCredentialHelper } from "./cred-helper.js";
import {
  credentialFromAuthEntry,
  helperFor,
  type LoadedDockerConfig,
  loadPluginConfig,
  loadUserDockerConfig,
  lookupByRegistry,
  secretsInConfig,
} from "./docker-config.js";
import { type EcrRegistry, ecrRegistryOf } from "./ecr-registry.js";
import { credentialHost, dockerConfigKey } from "./hosts.js";

export interface CredentialSourceOptions {
  /** Relative `PLUGIN_CONFIG` paths resolve against this (default: the process's cwd). */
  cwd?: string;
}

/** The AWS side of a run that pushes to ECR: shared by the login and the repository preparation. */
export interface EcrSession {
  registry: EcrRegistry;
  credentials: AwsCredentialProvider;
}

const ecrSessions = new WeakMap<Settings, EcrSession | null>();

/** The run's ECR registry and AWS credentials (one provider per settings object: roles are assumed once). */
export function ecrSessionFor(
  settings: Settings,
  logger: Logger,
  env: NodeJS.ProcessEnv = process.env,
): EcrSession | undefined {
  const known = ecrSessions.get(settings);
  if (known !== undefined) return known ?? undefined;
  const registry = ecrRegistryOf(settings);
  let provider: Promise<AwsCredentialProvider> | undefined;
  // The AWS SDK is loaded on the first call, not on import: runs that do not use ECR never pay for it.
  const credentials: AwsCredentialProvider = async () => {
    provider ??= import("./aws-credentials.js").then(({ awsCredentialProvider }) =>
      awsCredentialProvider(settings, registry?.region ?? settings.region, {
        env,
        addSecret: (v) => logger.addSecret(v),
      }),
    );
    return (await provider)();
  };
  const session = registry ? { registry, credentials } : undefined;
  ecrSessions.set(settings, session ?? null);
  return session;
}

/** A login given as user + password in settings, or undefined when it has no password. */
function explicitLogin(username: string | undefined, password: string | undefined): Credential | undefined {
  if (!password) return undefined;
  return { username: username ?? "", password };
}

/** Looks a host up in one docker config: `auths`, then its helper, docker's way. */
async function fromDockerConfig(
  loaded: LoadedDockerConfig,
  host: string,
  env: NodeJS.ProcessEnv,
  logger: Logger,
  warned: Set<string>,
): Promise<Credential | undefined> {
  const { config, origin } = loaded;
  const helper = helperFor(config, host);
  const stored = credentialFromAuthEntry(lookupByRegistry(config.auths, host), origin);
  if (helper) {
    try {
      const answer = await getFromCredentialHelper(helper, dockerConfigKey(host), {
        env,
        addSecret: (v) => logger.addSecret(v),
      });
      // docker takes the helper's answer alone; an `auths` entry written beside it is a fallback here,
      // because CI configs are often copied from a desktop whose helper is not installed.
      if (answer) {
        logger.debug(`credentials for ${host}: credential helper ${helper} (${origin})`);
        return answer;
      }
    } catch (error) {
      if (!(error instanceof CredentialHelperMissing)) throw error;
      if (!warned.has(error.program)) {
        warned.add(error.program);
        logger.warn(
          `${origin} names credential helper ${error.program}, which is not on PATH; going on without it`,
        );
      }
    }
  }
  if (stored) logger.debug(`credentials for ${host}: "auths" in ${origin}`);
  return stored;
}

/** The credential of a cloud login, its secrets registered with the logger first. */
async function cloudCredential(
  login: CloudLogin,
  settings: Settings,
  env: NodeJS.ProcessEnv,
  logger: Logger,
): Promise<Credential> {
  logger.debug(`credentials for ${login.registry.host}: ${login.via} (${login.registry.because})`);
  if (login.kind === "static") {
    logger.addSecret(login.credential.password);
    return login.credential;
  }
  // Loaded on use: only a run that logs in to ACR as a service principal needs the token requests.
  const { acrLogin } = await import("./acr-login.js");
  return acrLogin(login, {
    addSecret: (v) => logger.addSecret(v),
    mask: logger.mask,
    info: (m) => logger.info(m),
    registryCa: settings.registryCa,
    insecure: settings.insecure,
    env,
  });
}

/**
 * The run's credential source. Config files are read once, on first use; each host is looked up once
 * (a helper is run once per host); every secret found is registered with the logger before it is returned.
 */
export function credentialSourceFor(
  settings: Settings,
  env: NodeJS.ProcessEnv,
  logger: Logger,
  options: CredentialSourceOptions = {},
): CredentialSource {
  const cwd = options.cwd ?? process.cwd();
  const registryHost = credentialHost(settings.registry);
  const login = explicitLogin(settings.username, settings.password);
  const baseHost = settings.baseImageRegistry ? credentialHost(settings.baseImageRegistry) : undefined;
  const baseLogin = explicitLogin(settings.baseImageUsername, settings.baseImagePassword);
  logger.addSecret(settings.password);
  logger.addSecret(settings.baseImagePassword);
  logger.addSecret(settings.config);

  let configs: Promise<LoadedDockerConfig[]> | undefined;
  const loadConfigs = () => {
    configs ??= (async () => {
      const list: LoadedDockerConfig[] = [];
      const plugin = await loadPluginConfig(settings.config, cwd);
      const user = await loadUserDockerConfig(env);
      for (const loaded of [plugin, user]) {
        if (!loaded) continue;
        for (const secret of secretsInConfig(loaded.config)) logger.addSecret(secret);
        list.push(loaded);
      }
      return list;
    })();
    return configs;
  };
  let cloud: ReturnType<typeof cloudLoginOf> | undefined;
  const warned = new Set<string>();
  const answers = new Map<string, Promise<Credential | undefined>>();

  const lookup = async (host: string): Promise<Credential | undefined> => {
    if (login && host === registryHost) return login;
    if (baseLogin && baseHost !== undefined && host === baseHost) return baseLogin;
    const ecr = ecrSessionFor(settings, logger, env);
    if (ecr && host === ecr.registry.host) {
      const { ecrLogin } = await import("./ecr.js");
      return ecrLogin(ecr.registry, ecr.credentials, {
        addSecret: (v) => logger.addSecret(v),
        mask: logger.mask,
        settings,
      });
    }
    // Settings were validated (lib/config/validate.ts), so deciding cannot fail here for a CLI run.
    cloud ??= cloudLoginOf(settings);
    if (cloud.registry && host === cloud.registry.host) {
      for (const warning of cloud.warnings) logger.warn(warning);
      if (cloud.login) return cloudCredential(cloud.login, settings, env, logger);
    }
    for (const loaded of await loadConfigs()) {
      const found = await fromDockerConfig(loaded, host, env, logger, warned);
      if (found) return found;
    }
    return undefined;
  };

  return (registry: string) => {
    const host = credentialHost(registry);
    let answer = answers.get(host);
    if (!answer) {
      answer = lookup(host).then((credential) => {
        // The pair travels as base64(user:password) in Basic headers and config `auth` fields: masked as one.
        if (credential?.password) logger.addSecret(`${credential.username ?? ""}:${credential.password}`);
        return credential;
      });
      answers.set(host, answer);
    }
    return answer;
  };
}
