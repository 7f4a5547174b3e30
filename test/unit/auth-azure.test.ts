import assert from "node:assert/strict";
import { test } from "node:test";
import { acrExchangeEndpoint, acrExchangeForm } from "../../lib/auth/acr-exchange.js";
import {
  AZURE_MANAGEMENT_SCOPE,
  aadTokenEndpoint,
  clientCredentialsForm,
  oauthErrorSummary,
} from "../../lib/auth/azure-ad-token.js";
import { cloudLoginOf } from "../../lib/auth/cloud-login.js";
import type { Settings } from "../../lib/config/settings.js";
import { UsageError } from "../../lib/errors.js";
import { namesSetting } from "../helpers/setting-names.js";
import { testSettings } from "../helpers/settings.js";

const ACR = { registry: "myregistry.azurecr.io", repo: "myregistry.azurecr.io/test-image" };
const SP = { clientId: "app-id", tenantId: "tenant-id", clientSecret: "s3cret" };
const acr = (overrides: Partial<Settings>) => cloudLoginOf(testSettings({ ...ACR, ...overrides }));

/** Asserts a UsageError matching `message` that names each of `settings`. */
function assertUsage(fn: () => unknown, message: RegExp, settings: string[]) {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof UsageError, String(error));
    assert.match(error.message, message);
    for (const setting of settings) assert.ok(namesSetting(error, setting), `${setting}: ${error.message}`);
    return true;
  });
}

test("ACR: SERVICE_PRINCIPAL_CLIENT_ID/_SECRET are the login as they are, before any Azure AD flow", () => {
  const decided = acr({
    ...SP,
    servicePrincipalClientId: "sp-user",
    servicePrincipalClientSecret: "sp-pass",
  });
  assert.equal(decided.login?.kind, "static");
  assert.deepEqual(decided.login?.kind === "static" && decided.login.credential, {
    username: "sp-user",
    password: "sp-pass",
  });
  assert.equal(decided.login?.registry.host, "myregistry.azurecr.io");
  assertUsage(
    () => acr({ servicePrincipalClientId: "sp-user" }),
    /^SERVICE_PRINCIPAL_CLIENT_ID is set but SERVICE_PRINCIPAL_CLIENT_SECRET is not/,
    ["SERVICE_PRINCIPAL_CLIENT_SECRET"],
  );
});

test("ACR: CLIENT_ID + CLIENT_SECRET + TENANT_ID plan an Azure AD login at the authority host", () => {
  const decided = acr(SP);
  assert.deepEqual(decided.login, {
    kind: "azure-ad",
    registry: { kind: "acr", host: "myregistry.azurecr.io", because: "the ACR host in PLUGIN_REGISTRY" },
    tenantId: "tenant-id",
    clientId: "app-id",
    authorityHost: "https://login.microsoftonline.com",
    clientSecret: "s3cret",
    via: "CLIENT_ID + CLIENT_SECRET + TENANT_ID",
  });
  assert.deepEqual(decided.warnings, []);
  const china = acr({ ...SP, azureAuthorityHost: "https://login.chinacloudapi.cn/" });
  assert.equal(
    china.login?.kind === "azure-ad" && china.login.authorityHost,
    "https://login.chinacloudapi.cn",
  );
});

test("ACR: CLIENT_CERTIFICATE instead of the secret plans the same login; with both, the secret is used", () => {
  const decided = acr({ clientId: "app-id", tenantId: "tenant-id", clientCertificate: "PEM in base64" });
  assert.equal(decided.login?.kind, "azure-ad");
  assert.equal(decided.login?.kind === "azure-ad" && decided.login.clientCertificate, "PEM in base64");
  assert.equal(decided.login?.kind === "azure-ad" && decided.login.clientSecret, undefined);
  assert.equal(decided.login?.via, "CLIENT_ID + CLIENT_CERTIFICATE + TENANT_ID");
  const both = acr({ ...SP, clientCertificate: "PEM in base64" });
  assert.equal(both.login?.kind === "azure-ad" && both.login.clientSecret, "s3cret");
  assert.equal(both.login?.kind === "azure-ad" && both.login.clientCertificate, undefined);
  assert.match(
    both.warnings.join("\n"),
    /CLIENT_CERTIFICATE is not used: CLIENT_SECRET is, as in the plugin/,
  );
  assertUsage(
    () => acr({ clientId: "app-id", clientCertificate: "PEM in base64" }),
    /^CLIENT_CERTIFICATE is set, .* needs TENANT_ID/,
    ["TENANT_ID"],
  );
});

test("ACR: PLUGIN_OIDC_TOKEN_ID with both ids is the plugin's first path, a federated assertion", () => {
  const decided = acr({ ...SP, oidcTokenId: "ci.oidc.token", clientCertificate: "PEM" });
  assert.equal(decided.login?.kind === "azure-ad" && decided.login.federatedToken, "ci.oidc.token");
  assert.equal(decided.login?.kind === "azure-ad" && decided.login.clientSecret, undefined);
  assert.equal(decided.login?.via, "CLIENT_ID + PLUGIN_OIDC_TOKEN_ID + TENANT_ID");
  assert.match(decided.warnings.join("\n"), /CLIENT_SECRET is not used: PLUGIN_OIDC_TOKEN_ID is/);
  assert.match(decided.warnings.join("\n"), /CLIENT_CERTIFICATE is not used: PLUGIN_OIDC_TOKEN_ID is/);
  // Without both ids the plugin does not take the OIDC path: the secret's path (which needs the tenant too),
  // or Azure's default credentials (a warning here).
  assertUsage(
    () => acr({ clientId: "app-id", clientSecret: "s3cret", oidcTokenId: "ci.oidc.token" }),
    /^CLIENT_SECRET is set, .* needs TENANT_ID/,
    ["TENANT_ID"],
  );
  const tokenOnly = acr({ clientId: "app-id", oidcTokenId: "ci.oidc.token" });
  assert.equal(tokenOnly.login, undefined);
  assert.match(tokenOnly.warnings.join("\n"), /nor PLUGIN_OIDC_TOKEN_ID with both CLIENT_ID and TENANT_ID/);
});

test("ACR: a secret without tenant or client id is bad input naming what is missing, as the plugin refuses it", () => {
  assertUsage(
    () => acr({ ...SP, tenantId: undefined }),
    /^CLIENT_SECRET is set, .* needs TENANT_ID: set it/,
    ["TENANT_ID"],
  );
  assertUsage(
    () => acr({ clientSecret: "s3cret" }),
    /needs TENANT_ID and CLIENT_ID: set them \(the plugin fails the same way: "tenantId cannot be empty/,
    ["TENANT_ID", "CLIENT_ID"],
  );
  assertUsage(() => acr({ ...SP, tenantId: "a/b?c" }), /^TENANT_ID "a\/b\?c" is not a tenant id/, [
    "TENANT_ID",
  ]);
  assertUsage(() => acr({ ...SP, azureAuthorityHost: "http://login.example" }), /must be a plain https URL/, [
    "AZURE_AUTHORITY_HOST",
  ]);
  assertUsage(() => acr({ ...SP, azureAuthorityHost: "login" }), /is not a URL/, ["AZURE_AUTHORITY_HOST"]);
  for (const fn of [() => acr({ ...SP, tenantId: undefined }), () => acr({ clientSecret: "s3cret" })]) {
    assert.throws(fn, (error: unknown) => !(error as Error).message.includes("s3cret"));
  }
});

test("ACR: ids without a secret or certificate give no login but a warning (the plugin's default credential chain)", () => {
  const decided = acr({ clientId: "app-id", tenantId: "tenant-id" });
  assert.equal(decided.login, undefined);
  assert.match(
    decided.warnings.join("\n"),
    /CLIENT_ID is set but neither CLIENT_SECRET nor CLIENT_CERTIFICATE/,
  );
  assert.deepEqual(acr({}), { registry: decided.registry, warnings: [] });
});

test("ACR settings for a registry that is no ACR are not used, nor checked", () => {
  const decided = cloudLoginOf(testSettings({ registry: "registry.example.com", clientSecret: "s3cret" }));
  assert.deepEqual(decided, { warnings: [] });
  // An explicit login for the ACR registry itself wins over the service principal.
  const explicit = acr({ clientSecret: "s3cret", username: "u", password: "p" });
  assert.equal(explicit.login, undefined);
});

test("the client credentials form and Azure AD's token endpoint", () => {
  assert.equal(
    aadTokenEndpoint("https://login.microsoftonline.com/", "tenant-id").href,
    "https://login.microsoftonline.com/tenant-id/oauth2/v2.0/token",
  );
  assert.deepEqual(Object.fromEntries(clientCredentialsForm("app-id", { secret: "s&3=t" })), {
    grant_type: "client_credentials",
    client_id: "app-id",
    scope: AZURE_MANAGEMENT_SCOPE,
    client_secret: "s&3=t",
  });
  assert.equal(AZURE_MANAGEMENT_SCOPE, "https://management.azure.com/.default");
  assert.match(clientCredentialsForm("app-id", { secret: "s&3=t" }).toString(), /client_secret=s%263%3Dt/);
  assert.deepEqual(Object.fromEntries(clientCredentialsForm("app-id", { assertion: "h.p.s" })), {
    grant_type: "client_credentials",
    client_id: "app-id",
    scope: AZURE_MANAGEMENT_SCOPE,
    client_assertion_type: "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
    client_assertion: "h.p.s",
  });
});

test("ACR's exchange form and endpoint (Azure/acr docs/AAD-OAuth.md)", () => {
  assert.equal(
    acrExchangeEndpoint("myregistry.azurecr.io").href,
    "https://myregistry.azurecr.io/oauth2/exchange",
  );
  assert.deepEqual(Object.fromEntries(acrExchangeForm("myregistry.azurecr.io", "tenant-id", "aad-token")), {
    grant_type: "access_token",
    service: "myregistry.azurecr.io",
    tenant: "tenant-id",
    access_token: "aad-token",
  });
});

test("an OAuth error answer is summed up by its error and the first line of its description", () => {
  const body = JSON.stringify({
    error: "invalid_client",
    error_description: "AADSTS7000215: Invalid client secret provided.\r\nTrace ID: 1\r\nTimestamp: now",
  });
  assert.equal(
    oauthErrorSummary({ status: 401, contentType: "application/json", body }),
    "invalid_client: AADSTS7000215: Invalid client secret provided.",
  );
  assert.equal(oauthErrorSummary({ status: 502, contentType: "text/html", body: "<html>" }), "");
});
