// Azure Container Registry logins end to end, with exactly the variables Harness sends for its ACR Build and
// Push step on a VM (harness-core PluginSettingUtils getACRStepInfoEnvVariables; the rows of section 6 of
// research/harness-contract.md): the service principal's secret gets an Azure AD token from a fake Azure AD
// (HTTPS, its own CA), which the registry's /oauth2/exchange turns into a refresh token, the password of
// the null-GUID user of a real registry (htpasswd, TLS) behind a TLS front that answers the exchange. A
// certificate connector's CLIENT_CERTIFICATE (base64 PEM) signs a client assertion that the fake verifies.
//
// *.azurecr.io cannot be reached from here, so the registry is on loopback and PLUGIN_REGISTRY_TYPE=ACR
// says what it is (the ACR wrapper sets ACR itself); AZURE_AUTHORITY_HOST points at the fake Azure AD and
// NODE_EXTRA_CA_CERTS trusts its CA; PLUGIN_REGISTRY_CA is the registry's. The lite-engine paths
// (/tmp/engine/...) of the result files are moved into the test's folder.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { copyFile, mkdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { type AcrFront, startAcrFront } from "../helpers/acr-front.js";
import { runCli } from "../helpers/cli.js";
import { type ClientCertificateFiles, makeClientCertificate } from "../helpers/client-certificate.js";
import { type FakeAzureAd, MANAGEMENT_SCOPE, startFakeAzureAd } from "../helpers/fake-azure-ad.js";
import { buildTarball, registryManifest, sampleContext } from "../helpers/images.js";
import { type RegistryServer, startRegistry } from "../helpers/registry.js";
import { tempDir } from "../helpers/tmp.js";

const ACR_USER = "00000000-0000-0000-0000-000000000000";
const TENANT = "8f4c2a1e-6b7d-4e3f-9a0b-1c2d3e4f5a6b";
const CLIENT_ID = "3b9e7c1d-2a4f-4b6e-8d0c-5f1a2b3c4d5e";
const CLIENT_SECRET = `client-Secret~${randomBytes(8).toString("hex")}`;
/** A principal Azure AD knows but that has no role on the registry. */
const NO_ROLE_ID = "7a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d";
const NO_ROLE_SECRET = `no-Role-Secret~${randomBytes(8).toString("hex")}`;
const REFRESH_TOKEN = `acr-Refresh-Token-${randomBytes(12).toString("hex")}`;
/** A principal whose federated credential trusts the CI's OIDC token (workload identity federation). */
const OIDC_CLIENT_ID = "2e1d0c9b-8a7f-4e6d-9c5b-4a3f2e1d0c9b";
const OIDC_TOKEN = `eyJhbGciOiJSUzI1NiJ9.ci-Oidc-Token-${randomBytes(8).toString("hex")}.sig`;
/** A principal that proves itself with a certificate. */
const CERT_CLIENT_ID = "5d4c3b2a-1f0e-4d9c-8b7a-6f5e4d3c2b1a";
const SP_USER = "9c8b7a6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d";
const SP_PASSWORD = `sp-Password-${randomBytes(8).toString("hex")}`;

let work: Awaited<ReturnType<typeof tempDir>>;
let aad: FakeAzureAd;
let registry: RegistryServer;
let front: AcrFront;
let spRegistry: RegistryServer;
let tarball: string;
let context: string;
let certDir: string;
let emptyDockerConfig: string;
let certificate: ClientCertificateFiles;
let otherCertificate: ClientCertificateFiles;

before(async () => {
  work = await tempDir("auth-acr-");
  certificate = makeClientCertificate(work.path, "ci-principal");
  otherCertificate = makeClientCertificate(work.path, "unknown-principal");
  aad = await startFakeAzureAd({
    apps: [
      { tenant: TENANT, clientId: CLIENT_ID, secret: CLIENT_SECRET },
      { tenant: TENANT, clientId: NO_ROLE_ID, secret: NO_ROLE_SECRET },
      { tenant: TENANT, clientId: CERT_CLIENT_ID, certificatePem: certificate.certificatePem },
      { tenant: TENANT, clientId: OIDC_CLIENT_ID, federatedTokens: [OIDC_TOKEN] },
    ],
  });
  registry = await startRegistry({ auth: { username: ACR_USER, password: REFRESH_TOKEN }, tls: true });
  front = await startAcrFront({
    registry,
    aad,
    refreshToken: REFRESH_TOKEN,
    clientsWithRole: [CLIENT_ID, CERT_CLIENT_ID, OIDC_CLIENT_ID],
  });
  spRegistry = await startRegistry({ auth: { username: SP_USER, password: SP_PASSWORD }, tls: true });
  certDir = join(work.path, "certs");
  await mkdir(certDir);
  await copyFile(registry.caFile ?? "", join(certDir, "acr.crt"));
  await copyFile(spRegistry.caFile ?? "", join(certDir, "sp.crt"));
  emptyDockerConfig = join(work.path, "docker-config");
  await mkdir(emptyDockerConfig);
  context = await sampleContext(join(work.path, "ctx"));
  tarball = await buildTarball({ context, dest: join(work.path, "image.tar"), format: "oci" });
});

after(async () => {
  await front?.stop();
  await registry?.stop();
  await spRegistry?.stop();
  await aad?.stop();
  await work?.remove();
});

/** Every secret of the run, and the tokens it obtains: none may be printed. */
function assertNoSecret(output: string) {
  const tokens = [...aad.issued.keys()];
  const assertions = aad.requests.map((r) => r.form.client_assertion ?? "").filter(Boolean);
  const keys = [certificate, otherCertificate].flatMap((c) => [c.base64, c.keyPem.split("\n")[1] ?? ""]);
  for (const secret of [
    CLIENT_SECRET,
    NO_ROLE_SECRET,
    REFRESH_TOKEN,
    SP_PASSWORD,
    ...tokens,
    ...assertions,
    ...keys,
  ]) {
    assert.ok(!output.includes(secret), `a secret leaked: ${output}`);
  }
}

/** Harness's "ACR / VM buildx" row, on the loopback registry `host`. */
async function acrStep(host: string, name: string, extra: Record<string, string>) {
  const dir = join(work.path, name);
  await mkdir(dir);
  return {
    // -- what Harness sends (getACRStepInfoEnvVariables, VM, client secret connector)
    PLUGIN_REPO: `${host}/test-image`,
    PLUGIN_REGISTRY: host,
    SUBSCRIPTION_ID: "sub-123",
    PLUGIN_TAGS: "new-1",
    PLUGIN_DAEMON_OFF: "true",
    CLIENT_ID,
    TENANT_ID: TENANT,
    CLIENT_SECRET,
    PLUGIN_METADATA_FILE: join(dir, "build_push-buildx-metadata.json"),
    PLUGIN_ARTIFACT_FILE: join(dir, "build_push-artifact"),
    DRONE_OUTPUT: join(dir, "build_push-output.env"),
    // -- what the test adds: the kind, where Azure AD is and whom to trust for it and for the registry
    PLUGIN_REGISTRY_TYPE: "ACR",
    AZURE_AUTHORITY_HOST: aad.url,
    NODE_EXTRA_CA_CERTS: aad.caFile,
    PLUGIN_REGISTRY_CA: registry.caFile ?? "",
    DOCKER_CONFIG: emptyDockerConfig,
    ...extra,
  };
}

const pushOnly = () => ({ PLUGIN_PUSH_ONLY: "true", PLUGIN_SOURCE_TAR_PATH: tarball });

/** The digest the artifact file reports, checked against what the registry serves (read by skopeo). */
async function assertPublished(env: Record<string, string>, ref: string, creds: string): Promise<void> {
  const artifact = JSON.parse(await readFile(env.PLUGIN_ARTIFACT_FILE ?? "", "utf8"));
  assert.equal(artifact.data.registryType, "ACR");
  const image = artifact.data.images[0];
  assert.equal(image.image, ref);
  // skopeo asks the real registry: the front only proxies it.
  const direct = ref.replace(front.host, registry.host);
  const served = await registryManifest(direct, { tls: true, caDir: certDir, creds });
  assert.equal(image.digest, served.digest);
}

/** The token requests and exchanges a run made, from the marks taken before it. */
function since(marks: { aad: number; exchanges: number }) {
  return { aad: aad.requests.slice(marks.aad), exchanges: front.exchanges.slice(marks.exchanges) };
}
const mark = () => ({ aad: aad.requests.length, exchanges: front.exchanges.length });

test("ACR / VM: push-only logs in with the service principal's secret, by Azure AD and /oauth2/exchange", async () => {
  const from = mark();
  const env = await acrStep(front.host, "acr-push", pushOnly());
  const result = await runCli([], { env });
  assert.equal(result.code, 0, result.stderr);
  const { aad: asked, exchanges } = since(from);
  assert.equal(asked.length, 1, "one Azure AD token per run");
  assert.deepEqual(asked[0], {
    tenant: TENANT,
    form: {
      grant_type: "client_credentials",
      client_id: CLIENT_ID,
      scope: MANAGEMENT_SCOPE,
      client_secret: CLIENT_SECRET,
    },
    outcome: "ok",
    status: 200,
  });
  assert.equal(exchanges.length, 1, "one exchange per run");
  const form = exchanges[0]?.form ?? {};
  assert.deepEqual(
    { grant_type: form.grant_type, service: form.service, tenant: form.tenant },
    { grant_type: "access_token", service: front.host, tenant: TENANT },
  );
  assert.ok(aad.issued.has(form.access_token ?? ""), "the exchange got the access token Azure AD issued");
  await assertPublished(env, `${front.host}/test-image:new-1`, `${ACR_USER}:${REFRESH_TOKEN}`);
  assert.match(result.stderr, new RegExp(`logging in to ${front.host} as service principal ${CLIENT_ID}`));
  assertNoSecret(result.stdout + result.stderr);
});

test("ACR: the engine path sends the refresh token as X-Registry-Auth", async () => {
  const env = await acrStep(front.host, "acr-daemon", {
    ...pushOnly(),
    PLUGIN_REPO: "daemon-image",
    PLUGIN_PUSH_VIA: "daemon",
  });
  const result = await runCli([], { env });
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stderr, /through the Docker engine/);
  // The wrapper's join: registry + "/" + repo.
  await assertPublished(env, `${front.host}/daemon-image:new-1`, `${ACR_USER}:${REFRESH_TOKEN}`);
  assertNoSecret(result.stdout + result.stderr);
});

test("ACR build-and-push logs buildx in through the temporary docker config", async () => {
  const env = await acrStep(front.host, "acr-build", {
    PLUGIN_REPO: `${front.host}/built-image`,
    PLUGIN_CONTEXT: context,
    PLUGIN_DOCKERFILE: join(context, "Dockerfile"),
  });
  const result = await runCli([], { env });
  assert.equal(result.code, 0, result.stderr);
  await assertPublished(env, `${front.host}/built-image:new-1`, `${ACR_USER}:${REFRESH_TOKEN}`);
  assertNoSecret(result.stdout + result.stderr);
});

test("SERVICE_PRINCIPAL_CLIENT_ID/_SECRET log in as they are, and Azure AD is not asked", async () => {
  const from = mark();
  const env = await acrStep(spRegistry.host, "acr-direct", {
    ...pushOnly(),
    SERVICE_PRINCIPAL_CLIENT_ID: SP_USER,
    SERVICE_PRINCIPAL_CLIENT_SECRET: SP_PASSWORD,
    PLUGIN_REGISTRY_CA: spRegistry.caFile ?? "",
  });
  const result = await runCli([], { env });
  assert.equal(result.code, 0, result.stderr);
  assert.deepEqual(since(from), { aad: [], exchanges: [] });
  const artifact = JSON.parse(await readFile(env.PLUGIN_ARTIFACT_FILE, "utf8"));
  const served = await registryManifest(`${spRegistry.host}/test-image:new-1`, {
    tls: true,
    caDir: certDir,
    creds: `${SP_USER}:${SP_PASSWORD}`,
  });
  assert.equal(artifact.data.images[0].digest, served.digest);
  assertNoSecret(result.stdout + result.stderr);
});

test("a wrong client secret exits 1 naming Azure AD's endpoint and status; nothing is exchanged or pushed", async () => {
  const wrong = `wrong-Secret-${randomBytes(6).toString("hex")}`;
  const from = mark();
  const env = await acrStep(front.host, "acr-wrong", {
    ...pushOnly(),
    PLUGIN_REPO: "refused-image",
    CLIENT_SECRET: wrong,
  });
  const result = await runCli([], { env });
  assert.equal(result.code, 1, result.stderr);
  assert.match(
    result.stderr,
    new RegExp(
      `Azure AD \\(POST ${aad.url}/${TENANT}/oauth2/v2\\.0/token\\) refused the service principal: HTTP 401 invalid_client: AADSTS7000215`,
    ),
  );
  assert.ok(!result.stderr.includes(wrong), result.stderr);
  assert.deepEqual(since(from).exchanges, []);
  assertNoSecret(result.stdout + result.stderr);
  await assert.rejects(
    registryManifest(`${registry.host}/refused-image:new-1`, {
      tls: true,
      caDir: certDir,
      creds: `${ACR_USER}:${REFRESH_TOKEN}`,
    }),
  );
});

test("a principal without a role on the registry: the exchange's refusal exits 1 naming it", async () => {
  const env = await acrStep(front.host, "acr-no-role", {
    ...pushOnly(),
    PLUGIN_REPO: "no-role-image",
    CLIENT_ID: NO_ROLE_ID,
    CLIENT_SECRET: NO_ROLE_SECRET,
  });
  const result = await runCli([], { env });
  assert.equal(result.code, 1, result.stderr);
  assert.match(
    result.stderr,
    new RegExp(`ACR \\(POST https://${front.host}/oauth2/exchange\\) refused the Azure AD token: HTTP 401`),
  );
  assertNoSecret(result.stdout + result.stderr);
});

test("no TENANT_ID (or CLIENT_ID) with a client secret exits 2 before anything runs, naming them", async () => {
  const from = mark();
  const noTenant = await runCli([], {
    env: await acrStep(front.host, "acr-no-tenant", { ...pushOnly(), TENANT_ID: "" }),
  });
  assert.equal(noTenant.code, 2, noTenant.stderr);
  assert.match(noTenant.stderr, /CLIENT_SECRET is set, .* needs TENANT_ID: set it/);
  const neither = await runCli([], {
    env: await acrStep(front.host, "acr-no-ids", { ...pushOnly(), TENANT_ID: "", CLIENT_ID: "" }),
  });
  assert.equal(neither.code, 2, neither.stderr);
  assert.match(neither.stderr, /needs TENANT_ID and CLIENT_ID: set them/);
  assert.deepEqual(since(from), { aad: [], exchanges: [] });
  assertNoSecret(noTenant.stdout + noTenant.stderr + neither.stdout + neither.stderr);
});

/** Harness's ACR row for a certificate connector: CLIENT_CERTIFICATE instead of CLIENT_SECRET. */
async function certificateStep(name: string, value: string, extra: Record<string, string>) {
  const env: Record<string, string> = await acrStep(front.host, name, {
    ...pushOnly(),
    CLIENT_ID: CERT_CLIENT_ID,
    CLIENT_CERTIFICATE: value,
    ...extra,
  });
  delete env.CLIENT_SECRET;
  return env;
}

test("ACR / VM with CLIENT_CERTIFICATE: a client assertion signed with its key, which Azure AD verifies", async () => {
  const from = mark();
  const env = await certificateStep("acr-certificate", certificate.base64, { PLUGIN_REPO: "cert-image" });
  const result = await runCli([], { env });
  assert.equal(result.code, 0, result.stderr);
  const { aad: asked, exchanges } = since(from);
  assert.equal(asked.length, 1);
  const request = asked[0];
  assert.equal(request?.outcome, "ok", JSON.stringify(request));
  assert.equal(request?.form.client_secret, undefined);
  assert.equal(request?.form.client_assertion_type, "urn:ietf:params:oauth:client-assertion-type:jwt-bearer");
  assert.equal(request?.form.scope, MANAGEMENT_SCOPE);
  assert.deepEqual(request?.assertion?.header, {
    alg: "RS256",
    typ: "JWT",
    x5t: Buffer.from(certificate.sha1Hex, "hex").toString("base64url"),
  });
  const claims = request?.assertion?.claims ?? {};
  assert.equal(claims.aud, `${aad.url}/${TENANT}/oauth2/v2.0/token`);
  assert.equal(claims.iss, CERT_CLIENT_ID);
  assert.equal(claims.sub, CERT_CLIENT_ID);
  assert.equal(exchanges.length, 1);
  await assertPublished(env, `${front.host}/cert-image:new-1`, `${ACR_USER}:${REFRESH_TOKEN}`);
  assertNoSecret(result.stdout + result.stderr);
});

test("a certificate Azure AD does not know for the principal exits 1 with Azure AD's reason", async () => {
  const env = await certificateStep("acr-unknown-certificate", otherCertificate.base64, {
    PLUGIN_REPO: "x-image",
  });
  const result = await runCli([], { env });
  assert.equal(result.code, 1, result.stderr);
  assert.match(result.stderr, /refused the service principal: HTTP 401 invalid_client: AADSTS700027/);
  assertNoSecret(result.stdout + result.stderr);
});

test("a certificate that cannot sign an assertion (an EC key) exits 2 before anything runs, naming CLIENT_CERTIFICATE", async () => {
  const ec = makeClientCertificate(work.path, "ec-principal", { keyType: "ec" });
  const from = mark();
  const env = await certificateStep("acr-ec-certificate", ec.base64, {});
  const result = await runCli([], { env });
  assert.equal(result.code, 2, result.stderr);
  assert.match(
    result.stderr,
    /CLIENT_CERTIFICATE holds an EC key: Azure AD takes certificate credentials with RSA keys only/,
  );
  assert.ok(!result.stderr.includes(ec.base64.slice(0, 40)), result.stderr);
  assert.deepEqual(since(from), { aad: [], exchanges: [] });
});

test("ACR with an OIDC token: PLUGIN_OIDC_TOKEN_ID is the federated client assertion, before the secret (as in the plugin)", async () => {
  // Harness's OIDC connector (newer harness-core, UNVERIFIED in code: research/harness-contract.md 1.3) sends
  // AZURE_CLIENT_ID, AZURE_TENANT_ID and PLUGIN_OIDC_TOKEN_ID; a secret that is also set is not used.
  const from = mark();
  const env: Record<string, string> = await acrStep(front.host, "acr-oidc", {
    ...pushOnly(),
    PLUGIN_REPO: "oidc-image",
    AZURE_CLIENT_ID: OIDC_CLIENT_ID,
    AZURE_TENANT_ID: TENANT,
    PLUGIN_OIDC_TOKEN_ID: OIDC_TOKEN,
    CLIENT_SECRET: `unused-Secret-${randomBytes(4).toString("hex")}`,
  });
  delete env.CLIENT_ID;
  delete env.TENANT_ID;
  const result = await runCli([], { env });
  assert.equal(result.code, 0, result.stderr);
  const { aad: asked } = since(from);
  assert.equal(asked.length, 1);
  assert.deepEqual(asked[0]?.form, {
    grant_type: "client_credentials",
    client_id: OIDC_CLIENT_ID,
    scope: MANAGEMENT_SCOPE,
    client_assertion_type: "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
    client_assertion: OIDC_TOKEN,
  });
  assert.match(result.stderr, /CLIENT_SECRET is not used: PLUGIN_OIDC_TOKEN_ID is, as in the plugin/);
  await assertPublished(env, `${front.host}/oidc-image:new-1`, `${ACR_USER}:${REFRESH_TOKEN}`);
  assertNoSecret(result.stdout + result.stderr);
  assert.ok(!result.stderr.includes(env.CLIENT_SECRET ?? "-"), result.stderr);
});
