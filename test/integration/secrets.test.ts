// Every mode, run with secrets set (registry passwords, a docker config, AWS keys, an OIDC token, a Google
// service account key, an Azure service principal's secret and certificate), succeeding
// and failing: no secret may appear in stdout, stderr, the output files, the files left in the temporary
// folder, or the arguments of any process the tool started. Processes are seen through wrappers first on
// PATH: `docker` (buildx runs as `docker buildx`) and the credential helper log their argv, then do the work.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { generateKeyPairSync } from "node:crypto";
import { chmod, mkdir, readdir, readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { type AcrFront, startAcrFront } from "../helpers/acr-front.js";
import { runCli } from "../helpers/cli.js";
import { type ClientCertificateFiles, makeClientCertificate } from "../helpers/client-certificate.js";
import { cosignEncryptedKey } from "../helpers/cosign-key.js";
import { ACCOUNT_ID, type FakeAws, startFakeAws } from "../helpers/fake-aws.js";
import { type FakeAzureAd, startFakeAzureAd } from "../helpers/fake-azure-ad.js";
import { sampleContext } from "../helpers/images.js";
import { type RegistryServer, startRegistry } from "../helpers/registry.js";
import { tempDir } from "../helpers/tmp.js";

const USER = { username: "ci", password: "registry-Password-a1b2" };
const BASE_PASSWORD = "base-Image-Password-c3d4";
const CONFIG_SECRET = "config-File-Password-e5f6";
const STORE_SECRET = "helper-Store-Secret-g7h8";
const ECR_PASSWORD = "ecr-Registry-Password-i9j0";
const ACCESS_KEY = "AKIASECRETSTEST0001";
const SECRET_KEY = "aws-Secret-Key-k1l2m3";
const ROLE = `arn:aws:iam::${ACCOUNT_ID}:role/secrets-test`;
const OIDC_TOKEN = "eyJoaWRkZW4iOiJ0b2tlbiJ9.oidc-Secret-Token.n4o5";
/** A Google service account key (short, on one line: htpasswd's limit). */
const JSON_KEY = JSON.stringify({
  type: "service_account",
  private_key_id: "json-Key-Secret-p6q7",
  project_id: "p",
});
const TENANT = "secrets-tenant";
const CLIENT_ID = "secrets-client";
const CERT_CLIENT_ID = "secrets-cert-client";
const CLIENT_SECRET = "azure-Client-Secret-r8s9";
const ACR_REFRESH_TOKEN = "acr-Refresh-Token-t0u1";
const ACR_USER = "00000000-0000-0000-0000-000000000000";

let work: Awaited<ReturnType<typeof tempDir>>;
let registry: RegistryServer;
let ecrRegistry: RegistryServer;
let aws: FakeAws;
let gcrRegistry: RegistryServer;
let acrRegistry: RegistryServer;
let aad: FakeAzureAd;
let acrFront: AcrFront;
let certificate: ClientCertificateFiles;
let bin: string;
let argvLog: string;
let context: string;
let dockerConfigDir: string;
let runCount = 0;

before(async () => {
  work = await tempDir("secrets-");
  registry = await startRegistry({ auth: USER, tls: true });
  ecrRegistry = await startRegistry({ auth: { username: "AWS", password: ECR_PASSWORD }, tls: true });
  aws = await startFakeAws({
    registry: { url: `https://${ecrRegistry.host}`, username: "AWS", password: ECR_PASSWORD },
    users: { [ACCESS_KEY]: SECRET_KEY },
    roles: { [ROLE]: {} },
    webIdentityTokens: [OIDC_TOKEN],
  });
  gcrRegistry = await startRegistry({ auth: { username: "_json_key", password: JSON_KEY }, tls: true });
  certificate = makeClientCertificate(work.path, "secrets-principal");
  aad = await startFakeAzureAd({
    apps: [
      { tenant: TENANT, clientId: CLIENT_ID, secret: CLIENT_SECRET },
      { tenant: TENANT, clientId: CERT_CLIENT_ID, certificatePem: certificate.certificatePem },
    ],
  });
  acrRegistry = await startRegistry({ auth: { username: ACR_USER, password: ACR_REFRESH_TOKEN }, tls: true });
  acrFront = await startAcrFront({
    registry: acrRegistry,
    aad,
    refreshToken: ACR_REFRESH_TOKEN,
    clientsWithRole: [CLIENT_ID, CERT_CLIENT_ID],
  });
  context = await sampleContext(join(work.path, "ctx"));
  bin = join(work.path, "bin");
  argvLog = join(work.path, "argv.log");
  await mkdir(bin);
  await writeFile(argvLog, "");
  const realDocker = execFileSync("sh", ["-c", "command -v docker"]).toString().trim();
  await writeFile(
    join(bin, "docker"),
    `#!/bin/sh\nprintf '%s ' "$0" "$@" >> ${argvLog}\necho >> ${argvLog}\nexec ${realDocker} "$@"\n`,
  );
  // The user's credentials store: answers for every registry it is asked about, with a secret.
  await writeFile(
    join(bin, "docker-credential-secretstore"),
    [
      "#!/bin/sh",
      `printf '%s ' "$0" "$@" >> ${argvLog}`,
      `echo >> ${argvLog}`,
      "read -r address || true",
      `printf '{"ServerURL":"%s","Username":"store-user","Secret":"${STORE_SECRET}"}' "$address"`,
      "",
    ].join("\n"),
  );
  await chmod(join(bin, "docker"), 0o755);
  await chmod(join(bin, "docker-credential-secretstore"), 0o755);
  dockerConfigDir = join(work.path, "docker-config");
  await mkdir(dockerConfigDir);
  await writeFile(
    join(dockerConfigDir, "config.json"),
    JSON.stringify({ auths: {}, credsStore: "secretstore" }),
  );
});

after(async () => {
  await acrFront?.stop();
  await acrRegistry?.stop();
  await aad?.stop();
  await gcrRegistry?.stop();
  await aws?.stop();
  await registry?.stop();
  await ecrRegistry?.stop();
  await work?.remove();
});

/** Every secret of the runs, and the forms they would take in a docker config or a header. */
function secrets(): string[] {
  const plain = [
    USER.password,
    BASE_PASSWORD,
    CONFIG_SECRET,
    STORE_SECRET,
    ECR_PASSWORD,
    SECRET_KEY,
    OIDC_TOKEN,
    JSON_KEY,
    "json-Key-Secret-p6q7",
    CLIENT_SECRET,
    ACR_REFRESH_TOKEN,
    certificate.base64,
    certificate.keyPem.split("\n")[1] ?? "",
    ...aad.issued.keys(),
    ...aad.requests.map((r) => r.form.client_assertion ?? "").filter(Boolean),
  ];
  for (const key of aws.keys.values()) {
    if (key.sessionToken) plain.push(key.secretAccessKey, key.sessionToken);
  }
  const encoded = [
    `${USER.username}:${USER.password}`,
    `puller:${BASE_PASSWORD}`,
    `cfg:${CONFIG_SECRET}`,
    `AWS:${ECR_PASSWORD}`,
    `store-user:${STORE_SECRET}`,
    JSON_KEY,
    `_json_key:${JSON_KEY}`,
    `${ACR_USER}:${ACR_REFRESH_TOKEN}`,
  ].map((pair) => Buffer.from(pair).toString("base64"));
  return [...plain, ...encoded];
}

async function filesUnder(dir: string): Promise<string[]> {
  const found: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) found.push(...(await filesUnder(path)));
    else if (entry.isFile()) found.push(path);
  }
  return found;
}

interface Run {
  code: number;
  /** Everything the run wrote or started: streams, output files, leftovers in its TMPDIR, argv of processes. */
  seen: Map<string, string>;
  stderr: string;
  tmp: string;
}

/** Runs the tool with its own TMPDIR and output files, and collects all it left. */
async function run(env: Record<string, string>): Promise<Run> {
  runCount += 1;
  const dir = join(work.path, `run-${runCount}`);
  const tmp = join(dir, "tmp");
  await mkdir(tmp, { recursive: true });
  const outputs = {
    DRONE_OUTPUT: join(dir, "drone-output.env"),
    PLUGIN_ARTIFACT_FILE: join(dir, "artifact.json"),
    PLUGIN_METADATA_FILE: join(dir, "metadata.json"),
  };
  await writeFile(argvLog, "");
  const result = await runCli([], {
    env: {
      PATH: `${bin}:${process.env.PATH}`,
      TMPDIR: tmp,
      DOCKER_CONFIG: dockerConfigDir,
      AWS_EC2_METADATA_DISABLED: "true",
      AWS_CONFIG_FILE: join(work.path, "no-aws-config"),
      AWS_SHARED_CREDENTIALS_FILE: join(work.path, "no-aws-credentials"),
      ...aws.env,
      ...outputs,
      ...env,
    },
  });
  const seen = new Map<string, string>([
    ["stdout", result.stdout],
    ["stderr", result.stderr],
    ["argv of started processes", await readFile(argvLog, "utf8")],
  ]);
  for (const [name, path] of Object.entries(outputs)) {
    const text = await readFile(path, "utf8").catch(() => undefined);
    if (text !== undefined) seen.set(name, text);
  }
  for (const file of await filesUnder(tmp)) {
    if ((await stat(file)).size < 64 * 1024 * 1024)
      seen.set(`left in TMPDIR: ${file}`, (await readFile(file)).toString("latin1"));
  }
  return { code: result.code, seen, stderr: result.stderr, tmp };
}

function assertNothingLeaked(result: Run) {
  for (const [where, text] of result.seen) {
    for (const secret of secrets()) {
      assert.ok(
        !text.includes(secret),
        `secret ${secret.slice(0, 6)}… appears in ${where}:\n${text.slice(0, 2000)}`,
      );
    }
  }
}

async function assertTempConfigRemoved(result: Run) {
  const left = (await readdir(result.tmp)).filter((name) => name.startsWith("buildx-step-docker-config-"));
  assert.deepEqual(left, [], "the temporary docker config is removed");
}

/** Settings that carry every kind of registry secret. */
function registrySecrets(repository: string): Record<string, string> {
  return {
    PLUGIN_REGISTRY: registry.host,
    PLUGIN_REPO: `${registry.host}/${repository}`,
    PLUGIN_USERNAME: USER.username,
    PLUGIN_PASSWORD: USER.password,
    PLUGIN_REGISTRY_CA: registry.caFile ?? "",
    PLUGIN_BASE_IMAGE_REGISTRY: "base.example.com",
    PLUGIN_BASE_IMAGE_USERNAME: "puller",
    PLUGIN_BASE_IMAGE_PASSWORD: BASE_PASSWORD,
    PLUGIN_CONFIG: JSON.stringify({
      auths: { "config.example.com": { auth: Buffer.from(`cfg:${CONFIG_SECRET}`).toString("base64") } },
    }),
  };
}

const build = () => ({ PLUGIN_CONTEXT: context, PLUGIN_DOCKERFILE: join(context, "Dockerfile") });

test("build-and-push, build-only, push-only (registry and engine) leak no registry secret", async () => {
  const pushed = await run({ ...build(), ...registrySecrets("secrets/built"), PLUGIN_TAGS: "v1" });
  assert.equal(pushed.code, 0, pushed.stderr);
  assert.match(pushed.seen.get("argv of started processes") ?? "", /docker buildx build/);
  assertNothingLeaked(pushed);
  await assertTempConfigRemoved(pushed);

  const tarball = join(work.path, "secrets-image.tar");
  const built = await run({
    ...build(),
    ...registrySecrets("secrets/dry"),
    PLUGIN_DRY_RUN: "true",
    PLUGIN_TAR_PATH: tarball,
  });
  assert.equal(built.code, 0, built.stderr);
  assertNothingLeaked(built);
  await assertTempConfigRemoved(built);

  const viaRegistry = await run({
    ...registrySecrets("secrets/pushed"),
    PLUGIN_PUSH_ONLY: "true",
    PLUGIN_SOURCE_TAR_PATH: tarball,
  });
  assert.equal(viaRegistry.code, 0, viaRegistry.stderr);
  assertNothingLeaked(viaRegistry);

  const viaEngine = await run({
    ...registrySecrets("secrets/engine"),
    PLUGIN_PUSH_ONLY: "true",
    PLUGIN_SOURCE_TAR_PATH: tarball,
    PLUGIN_PUSH_VIA: "daemon",
  });
  assert.equal(viaEngine.code, 0, viaEngine.stderr);
  assertNothingLeaked(viaEngine);

  const refused = await run({
    ...registrySecrets("secrets/refused"),
    PLUGIN_PASSWORD: `${USER.password}-but-wrong`,
    PLUGIN_PUSH_ONLY: "true",
    PLUGIN_SOURCE_TAR_PATH: tarball,
  });
  assert.equal(refused.code, 1, refused.stderr);
  assertNothingLeaked(refused);
  assert.ok(!refused.stderr.includes(`${USER.password}-but-wrong`));

  const refusedBuild = await run({
    ...build(),
    ...registrySecrets("secrets/refused-build"),
    PLUGIN_PASSWORD: `${USER.password}-but-wrong`,
  });
  assert.equal(refusedBuild.code, 1, refusedBuild.stderr);
  assertNothingLeaked(refusedBuild);
  assert.ok(!refusedBuild.stderr.includes(`${USER.password}-but-wrong`));
  await assertTempConfigRemoved(refusedBuild);
});

test("signing in every push mode leaks neither the key nor its password: not in logs, argv or files", async () => {
  const { privateKey } = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
  const plainPem = privateKey.export({ type: "pkcs8", format: "pem" }).toString();
  const signPassword = "cosign-Key-Password-v2w3";
  const keyFile = join(work.path, "cosign.key");
  await writeFile(keyFile, cosignEncryptedKey(privateKey, signPassword), { mode: 0o600 });
  const keySecrets = [
    signPassword,
    Buffer.from(signPassword).toString("base64"),
    privateKey.export({ type: "pkcs8", format: "der" }).toString("base64"),
    ...plainPem.split("\n").filter((line) => line && !line.startsWith("-----")),
  ];
  const assertKeyNotLeaked = (result: Run) => {
    for (const [where, text] of result.seen) {
      for (const secret of keySecrets) {
        assert.ok(!text.includes(secret), `key secret ${secret.slice(0, 6)}… appears in ${where}`);
      }
    }
  };
  const signing = { PLUGIN_SIGN_KEY: keyFile, PLUGIN_SIGN_PASSWORD: signPassword };
  const tarball = join(work.path, "secrets-sign.tar");

  const pushed = await run({ ...build(), ...registrySecrets("secrets/signed-build"), ...signing });
  assert.equal(pushed.code, 0, pushed.stderr);
  assert.match(pushed.stderr, /signed .*secrets\/signed-build@sha256:/);
  assertNothingLeaked(pushed);
  assertKeyNotLeaked(pushed);

  const built = await run({
    ...build(),
    ...registrySecrets("secrets/signed-dry"),
    PLUGIN_DRY_RUN: "true",
    PLUGIN_TAR_PATH: tarball,
  });
  assert.equal(built.code, 0, built.stderr);
  for (const [via, key] of [
    ["registry", signing],
    ["daemon", signing],
    ["registry", { PLUGIN_SIGN_KEY: plainPem }],
  ] as const) {
    const result = await run({
      ...registrySecrets(`secrets/signed-${via}`),
      PLUGIN_PUSH_ONLY: "true",
      PLUGIN_SOURCE_TAR_PATH: tarball,
      PLUGIN_PUSH_VIA: via,
      ...key,
    });
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /signed /);
    assertNothingLeaked(result);
    assertKeyNotLeaked(result);
  }
  const refused = await run({
    ...registrySecrets("secrets/signed-refused"),
    PLUGIN_PUSH_ONLY: "true",
    PLUGIN_SOURCE_TAR_PATH: tarball,
    PLUGIN_SIGN_KEY: keyFile,
    PLUGIN_SIGN_PASSWORD: `${signPassword}-but-wrong`,
  });
  assert.equal(refused.code, 2, refused.stderr);
  assertKeyNotLeaked(refused);
  assert.ok(!refused.stderr.includes(`${signPassword}-but-wrong`));
});

function ecrSettings(repository: string, credentials: Record<string, string>): Record<string, string> {
  return {
    PLUGIN_REGISTRY_TYPE: "ECR",
    PLUGIN_REGISTRY: ecrRegistry.host,
    PLUGIN_REPO: `${ecrRegistry.host}/${repository}`,
    PLUGIN_REGISTRY_CA: ecrRegistry.caFile ?? "",
    PLUGIN_CREATE_REPOSITORY: "true",
    ...credentials,
  };
}

test("ECR in every mode, with assumed-role and web-identity credentials, leaks no AWS secret", async () => {
  const assumeRole = {
    PLUGIN_ACCESS_KEY: ACCESS_KEY,
    PLUGIN_SECRET_KEY: SECRET_KEY,
    PLUGIN_ASSUME_ROLE: ROLE,
  };
  const webIdentity = { PLUGIN_OIDC_TOKEN_ID: OIDC_TOKEN, PLUGIN_ASSUME_ROLE: ROLE };

  const pushed = await run({ ...build(), ...ecrSettings("secrets/ecr-built", assumeRole) });
  assert.equal(pushed.code, 0, pushed.stderr);
  assertNothingLeaked(pushed);
  await assertTempConfigRemoved(pushed);

  const tarball = join(work.path, "secrets-ecr.tar");
  const built = await run({
    ...build(),
    ...ecrSettings("secrets/ecr-dry", webIdentity),
    PLUGIN_DRY_RUN: "true",
    PLUGIN_TAR_PATH: tarball,
  });
  assert.equal(built.code, 0, built.stderr);
  assertNothingLeaked(built);

  for (const [name, credentials] of [
    ["assume-role", assumeRole],
    ["web-identity", webIdentity],
  ] as const) {
    for (const via of ["registry", "daemon"]) {
      const result = await run({
        ...ecrSettings(`secrets/ecr-${name}-${via}`, credentials),
        PLUGIN_PUSH_ONLY: "true",
        PLUGIN_SOURCE_TAR_PATH: tarball,
        PLUGIN_PUSH_VIA: via,
      });
      assert.equal(result.code, 0, `${name} via ${via}: ${result.stderr}`);
      assertNothingLeaked(result);
    }
  }
  assert.ok(aws.calls("AssumeRole").length >= 3 && aws.calls("AssumeRoleWithWebIdentity").length >= 3);

  const refused = await run({
    ...ecrSettings("secrets/ecr-refused", {
      PLUGIN_ACCESS_KEY: ACCESS_KEY,
      PLUGIN_SECRET_KEY: `${SECRET_KEY}-wrong`,
    }),
    PLUGIN_PUSH_ONLY: "true",
    PLUGIN_SOURCE_TAR_PATH: tarball,
  });
  assert.equal(refused.code, 1, refused.stderr);
  assert.match(refused.stderr, /InvalidSignatureException/);
  assertNothingLeaked(refused);
  assert.ok(!refused.stderr.includes(`${SECRET_KEY}-wrong`));
});

/** The GCR step's login: a key in base64, for a loopback registry that PLUGIN_REGISTRY_TYPE calls GCR. */
function gcrSettings(repository: string): Record<string, string> {
  return {
    PLUGIN_REGISTRY_TYPE: "GCR",
    PLUGIN_REGISTRY: `${gcrRegistry.host}/project`,
    PLUGIN_REPO: repository,
    PLUGIN_REGISTRY_CA: gcrRegistry.caFile ?? "",
    PLUGIN_JSON_KEY: Buffer.from(JSON_KEY).toString("base64"),
  };
}

/** The ACR step's login: a service principal's secret or certificate, Azure AD and the exchange faked. */
function acrSettings(repository: string, proof: Record<string, string>): Record<string, string> {
  return {
    PLUGIN_REGISTRY_TYPE: "ACR",
    PLUGIN_REGISTRY: acrFront.host,
    PLUGIN_REPO: repository,
    PLUGIN_REGISTRY_CA: acrRegistry.caFile ?? "",
    AZURE_AUTHORITY_HOST: aad.url,
    NODE_EXTRA_CA_CERTS: aad.caFile,
    TENANT_ID: TENANT,
    ...proof,
  };
}

test("GCR and ACR logins in every mode leak no key, secret, certificate or token", async () => {
  const secret = { CLIENT_ID, CLIENT_SECRET };
  const cert = { CLIENT_ID: CERT_CLIENT_ID, CLIENT_CERTIFICATE: certificate.base64 };
  const gcrBuilt = await run({ ...build(), ...gcrSettings("secrets/gcr-built") });
  assert.equal(gcrBuilt.code, 0, gcrBuilt.stderr);
  assertNothingLeaked(gcrBuilt);
  await assertTempConfigRemoved(gcrBuilt);

  const acrBuilt = await run({ ...build(), ...acrSettings("secrets/acr-built", secret) });
  assert.equal(acrBuilt.code, 0, acrBuilt.stderr);
  assertNothingLeaked(acrBuilt);
  await assertTempConfigRemoved(acrBuilt);

  const tarball = join(work.path, "secrets-cloud.tar");
  const built = await run({
    ...build(),
    ...gcrSettings("secrets/gcr-dry"),
    PLUGIN_DRY_RUN: "true",
    PLUGIN_TAR_PATH: tarball,
  });
  assert.equal(built.code, 0, built.stderr);
  assertNothingLeaked(built);

  const pushes: [string, Record<string, string>][] = [
    ["gcr", gcrSettings("secrets/gcr-pushed")],
    ["acr-secret", acrSettings("secrets/acr-secret", secret)],
    ["acr-certificate", acrSettings("secrets/acr-certificate", cert)],
  ];
  for (const [name, settings] of pushes) {
    for (const via of ["registry", "daemon"]) {
      const result = await run({
        ...settings,
        PLUGIN_PUSH_ONLY: "true",
        PLUGIN_SOURCE_TAR_PATH: tarball,
        PLUGIN_PUSH_VIA: via,
      });
      assert.equal(result.code, 0, `${name} via ${via}: ${result.stderr}`);
      assertNothingLeaked(result);
    }
  }

  const refused = await run({
    ...acrSettings("secrets/acr-refused", { CLIENT_ID, CLIENT_SECRET: `${CLIENT_SECRET}-wrong` }),
    PLUGIN_PUSH_ONLY: "true",
    PLUGIN_SOURCE_TAR_PATH: tarball,
  });
  assert.equal(refused.code, 1, refused.stderr);
  assert.match(refused.stderr, /AADSTS7000215/);
  assertNothingLeaked(refused);
  assert.ok(!refused.stderr.includes(`${CLIENT_SECRET}-wrong`));
});
