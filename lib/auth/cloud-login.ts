/**
 * Which login the plugin's cloud wrappers would make for the run's GCR, GAR or ACR registry, decided from the
 * settings alone (no request is made here), so that bad input is refused before anything runs and the
 * credential source knows what to do when the registry's host is first asked for.
 *
 * - GCR and GAR (drone-buildx-gcr, -gar): `PLUGIN_JSON_KEY` logs in as `_json_key` with the key's JSON
 *   (decoded when given in base64); else `ACCESS_TOKEN` as `oauth2accesstoken`. The key comes first, as in
 *   the plugin: the wrapper passes the key as DOCKER_PASSWORD and drone-buildx logs in with a password
 *   before it considers an access token.
 * - ACR (drone-buildx-acr): `SERVICE_PRINCIPAL_CLIENT_ID`/`_SECRET` as user and password; else the service
 *   principal's Azure AD token, exchanged at the registry for a refresh token (see acr-login.ts), which
 *   needs `CLIENT_ID` and `TENANT_ID`: with `PLUGIN_OIDC_TOKEN_ID` as a federated client assertion when
 *   the token and both ids are set (the wrapper's OIDC path, tried first), else with `CLIENT_SECRET` or,
 *   failing that, `CLIENT_CERTIFICATE`.
 *
 * An explicit `PLUGIN_USERNAME`/`PLUGIN_PASSWORD` for the same registry wins over all of these (drone-buildx
 * reads PLUGIN_PASSWORD before the DOCKER_PASSWORD its wrappers set), so then nothing here is used or checked.
 */
import { primaryEnvName, type SettingKey } from "../config/schema.js";
import type { Settings } from "../config/settings.js";
import { UsageError } from "../errors.js";
import type { Credential } from "../registry/credential.js";
import { type CloudRegistry, cloudRegistryOf } from "./cloud-registry.js";
import { decodeJsonKey } from "./google-json-key.js";
import { credentialHost } from "./hosts.js";

/** The user name GCR and Artifact Registry take with a service account key. */
const GOOGLE_JSON_KEY_USER = "_json_key";
/** The user name GCR and Artifact Registry take with an OAuth access token. */
const GOOGLE_ACCESS_TOKEN_USER = "oauth2accesstoken";
/** The user name that tells ACR the password is one of its refresh tokens (Azure/acr docs/AAD-OAuth.md). */
export const ACR_REFRESH_TOKEN_USER = "00000000-0000-0000-0000-000000000000";

/** How a setting is named in messages: as the user set it (see lib/config/provenance.ts). */
type SettingNamer = (key: SettingKey) => string;

export type CloudLogin =
  /** A user and password known from the settings. */
  | { kind: "static"; registry: CloudRegistry; credential: Credential; via: string }
  /** An Azure AD token for the service principal, exchanged at the registry for an ACR refresh token. */
  | {
      kind: "azure-ad";
      registry: CloudRegistry;
      tenantId: string;
      clientId: string;
      authorityHost: string;
      /** secret */
      clientSecret?: string;
      /** base64 (or plain) PEM with the certificate and its private key. secret */
      clientCertificate?: string;
      /** An OIDC token of the CI (`PLUGIN_OIDC_TOKEN_ID`) that Azure AD trusts for the principal. secret */
      federatedToken?: string;
      via: string;
    };

interface CloudLoginDecision {
  /** The login for the registry; undefined when the settings give none (other sources are asked). */
  login?: CloudLogin;
  /** Settings given but not used, worth a warning when the login is made. */
  warnings: string[];
}

type CloudSettings = Pick<
  Settings,
  | "registry"
  | "repo"
  | "registryType"
  | "password"
  | "jsonKey"
  | "accessToken"
  | "clientId"
  | "clientSecret"
  | "clientCertificate"
  | "tenantId"
  | "servicePrincipalClientId"
  | "servicePrincipalClientSecret"
  | "azureAuthorityHost"
  | "oidcTokenId"
>;

/** Azure AD's rule for tenant ids: letters, digits, `-` and `.` (a GUID or a domain name). */
const TENANT_ID = /^[A-Za-z0-9.-]+$/;

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

/** `AZURE_AUTHORITY_HOST` as the base of token URLs: https only, as Azure's SDK demands of it. */
function authorityBase(value: string, name: SettingNamer): string {
  let url: URL;
  try {
    url = new URL(value.trim());
  } catch {
    throw new UsageError(
      `${name("azureAuthorityHost")} "${value}" is not a URL: give the Azure AD endpoint, e.g. https://login.microsoftonline.com`,
    );
  }
  if (url.protocol !== "https:" || url.search || url.hash || url.username || url.password) {
    throw new UsageError(
      `${name("azureAuthorityHost")} "${value}" must be a plain https URL (client secrets are never sent in clear): e.g. https://login.microsoftonline.com`,
    );
  }
  return url.href.replace(/\/+$/, "");
}

function acrLogin(settings: CloudSettings, registry: CloudRegistry, name: SettingNamer): CloudLoginDecision {
  const warnings: string[] = [];
  const user = settings.servicePrincipalClientId;
  const password = settings.servicePrincipalClientSecret;
  if (user || password) {
    if (!user || !password) {
      const missing = user ? "servicePrincipalClientSecret" : "servicePrincipalClientId";
      throw new UsageError(
        `${name(user ? "servicePrincipalClientId" : "servicePrincipalClientSecret")} is set but ${name(missing)} is not: the ACR login takes both (a user and its password), or neither`,
      );
    }
    return {
      login: {
        kind: "static",
        registry,
        credential: { username: user, password },
        via: `${name("servicePrincipalClientId")}/${name("servicePrincipalClientSecret")}`,
      },
      warnings,
    };
  }
  const secret = settings.clientSecret;
  const certificate = settings.clientCertificate;
  // drone-buildx-acr takes the OIDC path first, whenever the token, the client id and the tenant are all set.
  const federated = Boolean(settings.oidcTokenId && settings.clientId?.trim() && settings.tenantId?.trim());
  if (!federated && !secret && !certificate) {
    if (settings.clientId || settings.tenantId || settings.oidcTokenId) {
      // drone-buildx-acr falls back to Azure's DefaultAzureCredential (managed identity, workload identity,
      // the Azure CLI's login), which needs Azure's SDK and the machine's Azure set-up.
      const given = settings.clientId ? "clientId" : settings.tenantId ? "tenantId" : "oidcTokenId";
      warnings.push(
        `${name(given)} is set but neither ${name("clientSecret")} nor ${name("clientCertificate")} (nor ${name("oidcTokenId")} with both ${name("clientId")} and ${name("tenantId")}): the plugin would then try Azure's default credentials (managed identity, Azure CLI), which buildx-step does not; give a secret, a certificate or an OIDC token, or a docker login for ${registry.host} in PLUGIN_CONFIG`,
      );
    }
    return { warnings };
  }
  const missing: SettingKey[] = [];
  if (!settings.tenantId?.trim()) missing.push("tenantId");
  if (!settings.clientId?.trim()) missing.push("clientId");
  const given = name(federated ? "oidcTokenId" : secret ? "clientSecret" : "clientCertificate");
  if (missing.length > 0) {
    throw new UsageError(
      `${given} is set, so the ACR login gets an Azure AD token for the service principal, which needs ${missing.map(name).join(" and ")}: set ${missing.length > 1 ? "them" : "it"} (the plugin fails the same way: "${missing[0] === "tenantId" ? "tenantId" : "clientId"} cannot be empty for AAD authentication")`,
    );
  }
  const tenantId = settings.tenantId?.trim() ?? "";
  if (!TENANT_ID.test(tenantId)) {
    throw new UsageError(
      `${name("tenantId")} "${tenantId}" is not a tenant id: give the tenant's GUID or its domain (letters, digits, "-" and ".")`,
    );
  }
  const unused: SettingKey[] = federated
    ? (["clientSecret", "clientCertificate"] as const).filter((key) => settings[key])
    : secret && certificate
      ? ["clientCertificate"]
      : [];
  for (const key of unused) {
    warnings.push(
      `${name(key)} is not used: ${given} is, as in the plugin (${federated ? "it takes the OIDC path first" : "Azure's environment credential takes the secret first"})`,
    );
  }
  const proof = federated
    ? { federatedToken: settings.oidcTokenId }
    : secret
      ? { clientSecret: secret }
      : { clientCertificate: certificate };
  return {
    login: {
      kind: "azure-ad",
      registry,
      tenantId,
      clientId: settings.clientId?.trim() ?? "",
      authorityHost: authorityBase(settings.azureAuthorityHost, name),
      ...proof,
      via: `${name("clientId")} + ${given} + ${name("tenantId")}`,
    },
    warnings,
  };
}

/**
 * The login the settings give for the run's cloud registry (see the file comment). Throws UsageError for
 * settings that cannot give one (a key that is no key, a service principal without tenant). Pure.
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
  const decision =
    registry.kind === "acr" ? acrLogin(settings, registry, name) : googleLogin(settings, registry, name);
  return { ...decision, registry };
}

/**
 * Checks the settings of the run's cloud login as far as they can be without a request: cloudLoginOf's
 * checks, and the certificate of a service principal (read and matched to its key; client-assertion.ts is
 * loaded only when there is one). Throws UsageError naming the setting, never quoting a secret.
 */
export async function checkCloudLogin(
  settings: CloudSettings,
  name: SettingNamer = primaryEnvName,
): Promise<void> {
  const { login } = cloudLoginOf(settings, name);
  if (login?.kind !== "azure-ad" || !login.clientCertificate) return;
  const { parseClientCertificate } = await import("./client-assertion.js");
  const parsed = parseClientCertificate(login.clientCertificate);
  if (!parsed.ok) {
    throw new UsageError(`${name("clientCertificate")} ${parsed.reason}`);
  }
}
