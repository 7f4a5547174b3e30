/**
 * What a user can set about a protocol failure, named as the user knows the setting (the flag typed on
 * the command line, the variable in plugin mode). The registry client, the archive reader and the engine
 * client say what went wrong, as a kind; only here does a failure name a setting.
 */
import { pluginSettingNames, type SettingNames } from "../config/provenance.js";
import { PushRefused } from "../daemon/push.js";
import { ProtocolError } from "../protocol-error.js";
import { RegistryHttpError } from "../registry/errors.js";

/** Wrappers that quote a failure keep it as their cause; the chain is never deeper than this. */
const MAX_CAUSES = 8;

/**
 * `error` with the setting hint of the protocol failure in it (itself or a cause), put right after that
 * failure's words wherever a wrapper quoted them. Other errors are returned as they are.
 */
export function withSettingHints(error: unknown, names: SettingNames = pluginSettingNames): unknown {
  let inner: unknown = error;
  for (let depth = 0; inner instanceof Error && depth < MAX_CAUSES; depth++, inner = inner.cause) {
    if (!(inner instanceof ProtocolError)) continue;
    const explained = explain(inner, names);
    if (explained === undefined) continue;
    const words = inner.message;
    if (error instanceof Error) error.message = error.message.replace(words, () => explained);
    break;
  }
  return error;
}

/** The failure's words with the setting hint, or undefined when no setting can help. */
function explain(error: ProtocolError, names: SettingNames): string | undefined {
  if (error instanceof PushRefused) {
    const hint = pushHint(error.registryMessage, error.registryHost, names);
    return hint === undefined ? undefined : `${error.message}: ${hint}`;
  }
  if (error instanceof RegistryHttpError && error.login !== undefined) {
    return `${error.message}; check ${names("username")} and ${names("password")} (or the docker config) for ${error.login}`;
  }
  switch (error.kind) {
    case "untrusted-certificate":
      return `${error.message}: set ${names("registryCa")} to the PEM file of the CA that signed the registry's certificate, or ${names("insecure")}=true to skip verification`;
    case "unreadable-ca":
      return `${names("registryCa")}: ${error.message}`;
    case "no-such-file":
      return `${error.message} (${names("sourceTarPath")})`;
    default:
      return undefined;
  }
}

/**
 * A hint for what the registry's words, as the engine relays them, most likely mean. The engine's TLS
 * settings are its own: this step's do not reach it.
 */
export function pushHint(
  registryMessage: string,
  registryHost: string,
  names: SettingNames = pluginSettingNames,
): string | undefined {
  const login = `${names("username")} and ${names("password")}`;
  switch (PushRefused.kindOf(registryMessage)) {
    case "unauthorized":
      return `the registry ${registryHost} did not accept the credentials: check ${login} (or the docker config) for ${registryHost}`;
    case "login-required":
      return `the registry ${registryHost} asks for a login: set ${login} (with ${names("registry")}=${registryHost}) or give a docker config that has it`;
    case "denied":
      return `the credentials for ${registryHost} may not push to this repository`;
    case "untrusted-certificate":
      return `the engine's TLS settings for ${registryHost} are its own (daemon.json insecure-registries, /etc/docker/certs.d): ${names("insecure")} does not reach it`;
    default:
      return undefined;
  }
}
