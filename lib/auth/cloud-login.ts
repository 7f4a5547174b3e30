/**
 * Which login the plugin's cloud wrappers would make for the run's GCR or GAR registry, decided from the
 * settings alone (no request is made here), so that bad input is refused before anything runs and the
 * credential source knows what to do when the registry's host is first asked for.
 *
 * - GCR and GAR (drone-buildx-gcr, -gar): `PLUGIN_JSON_KEY` logs in as `_json_key` with the key's JSON
 *   (decoded when given in base64); else `ACCESS_TOKEN` as `oauth2accesstoken`. The key comes first, as in
 *   the plugin: the wrapper passes the key as DOCKER_PASSWORD and drone-buildx logs in with a password
 *   before it considers an access token.
 *
 * An explicit `PLUGIN_USERNAME`/`PLUGIN_PASSWORD` for the same registry wins over all of these (drone-buildx
 * reads PLUGIN_PASSWORD before the DOCKER_PASSWORD its wrappers set), so then nothing here is used or checked.
 */
import { primaryEnvName, type SettingKey } from "../config/schema.js";
import type { Settings } from "../config/settings.js";
import { UsageError } from "../errors.js";
import { type CloudRegistry, cloudRegistryOf } from "./cloud-registry.js";
import type { Credential } from "./credential.js";
import { decodeJsonKey } from "./google-json-key.js";
import { credentialHost } from "./hosts.js";

/** The user name GCR and Artifact Registry take with a service account key. */
export const GOOGLE_JSON_KEY_USER = "_json_key";
/** The user name GCR and Artifact Registry take with an OAuth access token. */
export const GOOGLE_ACCESS_TOKEN_USER = "oauth2accesstoken";
/** How a setting is named in messages: as the user set it (see lib/config/provenance.ts). */
export type SettingNamer = (key: SettingKey) => string;

export type CloudLogin =
  /** A user and password known from the settings. */
  { kind: "static"; registry: CloudRegistry; credential: Credential; via: string };

export interface CloudLoginDecision {
  /** The login for the registry; undefined when the settings give none (other sources are asked). */
  login?: CloudLogin;
  /** Settings given but not used, worth a warning when the login is made. */
  warnings: string[];
}

type CloudSettings = Pick<
  Settings,
  "registry" | "repo" | "registryType" | "password" | "jsonKey" | "accessToken"
>;

function googleLogin(
  settings: CloudSettings,
  registry: CloudRegistry,
  name: SettingNamer,
): CloudLoginDecision {
  const warnings: string[] = [];
  if (settings.jsonKey) {
    const key = decodeJsonKey(settings.jsonKey);
    if (!key.ok) {
      throw new UsageError(
        `${name("jsonKey")} ${key.reason}: give the service account key file's JSON, or that JSON in standard base64 (base64 -w0 key.json)`,
        [primaryEnvName("jsonKey")],
      );
    }
    if (settings.accessToken) {
      warnings.push(
        `${name("accessToken")} is not used: ${name("jsonKey")} is, as in the plugin (unset one of them to silence this)`,
      );
    }
    return {
      login: {
        kind: "static",
        registry,
        credential: { username: GOOGLE_JSON_KEY_USER, password: key.text },
        via: key.form === "base64" ? `${name("jsonKey")} (base64)` : name("jsonKey"),
      },
      warnings,
    };
  }
  if (settings.accessToken) {
    return {
      login: {
        kind: "static",
        registry,
        credential: { username: GOOGLE_ACCESS_TOKEN_USER, password: settings.accessToken },
        via: name("accessToken"),
      },
      warnings,
    };
  }
  return { warnings };
}

/**
 * The login the settings give for the run's cloud registry (see the file comment). Throws UsageError for
 * settings that cannot give one (a key that is no key). Pure.
 */
export function cloudLoginOf(
  settings: CloudSettings,
  name: SettingNamer = primaryEnvName,
): CloudLoginDecision & { registry?: CloudRegistry } {
  const registry = cloudRegistryOf(settings);
  if (!registry) return { warnings: [] };
  // PLUGIN_USERNAME/PLUGIN_PASSWORD for this very registry come first (resolve.ts).
  if (settings.password && credentialHost(settings.registry) === registry.host)
    return { registry, warnings: [] };
  // ACR's logins are not made here yet: its registry is left to the other sources.
  if (registry.kind === "acr") return { registry, warnings: [] };
  const decision = googleLogin(settings, registry, name);
  return { ...decision, registry };
}
