// Amazon ECR in every credential mode, end to end: the real AWS SDK, pointed at local servers that speak
// ECR's and STS's wire protocols (AWS_ENDPOINT_URL_ECR / AWS_ENDPOINT_URL_STS), gets a token whose password
// is the login of a real registry (htpasswd, TLS with a CA made here). PLUGIN_REGISTRY_TYPE=ECR makes that
// registry ECR for the tool, since an *.amazonaws.com host cannot be reached from here.
import assert from "node:assert/strict";
import { copyFile, mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { awsCredentialProvider } from "../../lib/auth/aws-credentials.js";
import { ecrLogin } from "../../lib/auth/ecr.js";
import { ecrRegistryOf } from "../../lib/auth/ecr-registry.js";
import type { Settings } from "../../lib/config/settings.js";
import { runCli } from "../helpers/cli.js";
import { ACCOUNT_ID, type FakeAws, startFakeAws } from "../helpers/fake-aws.js";
import { buildTarball, registryManifest, sampleContext } from "../helpers/images.js";
import { type RegistryServer, startRegistry } from "../helpers/registry.js";
import { tempDir } from "../helpers/tmp.js";

const ECR_PASSWORD = "ecr-Token-Password-5d3a";
const ACCESS_KEY = "AKIAFAKESTATIC0001";
const SECRET_KEY = "static-Secret-Key-0c9f2e";
const ROLE = `arn:aws:iam::${ACCOUNT_ID}:role/ci-push`;
const EXTERNAL_ID = "ext-Id-31";
const OIDC_TOKEN = "eyJhbGciOiJSUzI1NiJ9.oidc-Token-Body.signature";
const SECRETS = [ECR_PASSWORD, SECRET_KEY, OIDC_TOKEN, Buffer.from(`AWS:${ECR_PASSWORD}`).toString("base64")];

let work: Awaited<ReturnType<typeof tempDir>>;
let registry: RegistryServer;
let aws: FakeAws;
let tarball: string;
let context: string;
let certDir: string;

before(async () => {
  work = await tempDir("auth-ecr-");
  registry = await startRegistry({ auth: { username: "AWS", password: ECR_PASSWORD }, tls: true });
  aws = await startFakeAws({
    registry: { url: `https://${registry.host}`, username: "AWS", password: ECR_PASSWORD },
    users: { [ACCESS_KEY]: SECRET_KEY },
    roles: { [ROLE]: { externalId: EXTERNAL_ID } },
    webIdentityTokens: [OIDC_TOKEN],
    repositories: ["team/existing"],
  });
  certDir = join(work.path, "certs");
  await mkdir(certDir);
  await copyFile(registry.caFile ?? "", join(certDir, "ca.crt"));
  context = await sampleContext(join(work.path, "ctx"));
  tarball = await buildTarball({ context, dest: join(work.path, "image.tar"), format: "oci" });
});

after(async () => {
  await aws?.stop();
  await registry?.stop();
  await work?.remove();
});

/** The environment of an ECR run: the fakes, nothing of this machine's AWS set-up, no instance metadata. */
function ecrEnv(repository: string, extra: Record<string, string>): Record<string, string> {
  return {
    ...aws.env,
    AWS_EC2_METADATA_DISABLED: "true",
    AWS_CONFIG_FILE: join(work.path, "no-aws-config"),
    AWS_SHARED_CREDENTIALS_FILE: join(work.path, "no-aws-credentials"),
    PLUGIN_REGISTRY_TYPE: "ECR",
    PLUGIN_REGISTRY: registry.host,
    PLUGIN_REPO: `${registry.host}/${repository}`,
    PLUGIN_REGISTRY_CA: registry.caFile ?? "",
    PLUGIN_REGION: "eu-central-1",
    ...extra,
  };
}

const pushOnly = { PLUGIN_PUSH_ONLY: "true", PLUGIN_SOURCE_TAR_PATH: "" };

async function published(repository: string, tag: string) {
  return registryManifest(`${registry.host}/${repository}:${tag}`, {
    tls: true,
    caDir: certDir,
    creds: `AWS:${ECR_PASSWORD}`,
  });
}

function assertNoSecret(output: string) {
  for (const secret of SECRETS) assert.ok(!output.includes(secret), `a secret leaked: ${output}`);
}

const modes: { name: string; env: Record<string, string> }[] = [
  {
    name: "static keys",
    env: { PLUGIN_ACCESS_KEY: ACCESS_KEY, PLUGIN_SECRET_KEY: SECRET_KEY },
  },
  {
    name: "assume role with external id",
    env: {
      PLUGIN_ACCESS_KEY: ACCESS_KEY,
      PLUGIN_SECRET_KEY: SECRET_KEY,
      PLUGIN_ASSUME_ROLE: ROLE,
      PLUGIN_EXTERNAL_ID: EXTERNAL_ID,
    },
  },
  {
    name: "OIDC web identity",
    env: { PLUGIN_OIDC_TOKEN_ID: OIDC_TOKEN, PLUGIN_ASSUME_ROLE: ROLE },
  },
];

/** Checks who signed the ECR calls since `from`: the static key, or keys STS issued for the role. */
function assertEcrSigners(mode: string, from: number) {
  const calls = aws.requests.slice(from);
  const ecrCalls = calls.filter((r) => r.service === "ecr");
  assert.ok(
    ecrCalls.some((r) => r.action === "GetAuthorizationToken" && r.outcome === "ok"),
    JSON.stringify(calls),
  );
  if (mode === "static keys") {
    assert.ok(
      ecrCalls.every((r) => r.accessKeyId === ACCESS_KEY),
      JSON.stringify(ecrCalls),
    );
    assert.equal(calls.filter((r) => r.service === "sts").length, 0);
    return;
  }
  const sts = calls.filter((r) => r.service === "sts");
  assert.equal(sts.length, 1, "the role is assumed once per run");
  const [assumed] = sts;
  assert.equal(assumed?.params.RoleArn, ROLE);
  if (mode === "OIDC web identity") {
    assert.equal(assumed?.action, "AssumeRoleWithWebIdentity");
    assert.equal(assumed?.params.WebIdentityToken, OIDC_TOKEN);
    assert.equal(assumed?.accessKeyId, undefined, "AssumeRoleWithWebIdentity is not signed");
  } else {
    assert.equal(assumed?.action, "AssumeRole");
    assert.equal(assumed?.params.ExternalId, EXTERNAL_ID);
    assert.equal(assumed?.accessKeyId, ACCESS_KEY, "AssumeRole is signed with the static keys");
  }
  for (const call of ecrCalls) {
    assert.match(call.accessKeyId ?? "", /^ASIA/, "ECR is called with the role's temporary keys");
    assert.equal(aws.keys.get(call.accessKeyId ?? "")?.principal, ROLE);
  }
}

for (const mode of modes) {
  const slug = mode.name.toLowerCase().replace(/\W+/g, "-");
  test(`ECR push-only with ${mode.name}`, async () => {
    const from = aws.requests.length;
    const result = await runCli([], {
      env: ecrEnv(`team/push-${slug}`, {
        ...pushOnly,
        PLUGIN_SOURCE_TAR_PATH: tarball,
        ...mode.env,
        PLUGIN_TAGS: "v1",
      }),
    });
    assert.equal(result.code, 0, result.stderr);
    assertEcrSigners(mode.name, from);
    const manifest = await published(`team/push-${slug}`, "v1");
    assert.equal(manifest.json.schemaVersion, 2);
    for (const call of aws.requests.slice(from).filter((r) => r.service === "ecr")) {
      assert.equal(call.region, "eu-central-1", "PLUGIN_REGION is the API's region");
    }
    assertNoSecret(result.stdout + result.stderr);
  });

  test(`ECR build-and-push with ${mode.name}`, async () => {
    const from = aws.requests.length;
    const result = await runCli([], {
      env: ecrEnv(`team/build-${slug}`, {
        PLUGIN_CONTEXT: context,
        PLUGIN_DOCKERFILE: join(context, "Dockerfile"),
        PLUGIN_TAGS: "v1",
        ...mode.env,
      }),
    });
    assert.equal(result.code, 0, result.stderr);
    assertEcrSigners(mode.name, from);
    const manifest = await published(`team/build-${slug}`, "v1");
    assert.ok(manifest.digest.startsWith("sha256:"));
    assertNoSecret(result.stdout + result.stderr);
  });
}

test("create repository with scan on push, lifecycle and repository policies are sent before the push", async () => {
  const lifecycle = JSON.stringify({
    rules: [
      {
        rulePriority: 1,
        selection: {
          tagStatus: "untagged",
          countType: "sinceImagePushed",
          countUnit: "days",
          countNumber: 7,
        },
        action: { type: "expire" },
      },
    ],
  });
  const policy = JSON.stringify({
    Version: "2012-10-17",
    Statement: [{ Sid: "ci", Effect: "Allow", Principal: "*", Action: ["ecr:BatchGetImage"] }],
  });
  await writeFile(join(work.path, "lifecycle.json"), lifecycle);
  await writeFile(join(work.path, "policy.json"), policy);
  const from = aws.requests.length;
  const result = await runCli([], {
    env: ecrEnv("team/created", {
      ...pushOnly,
      PLUGIN_SOURCE_TAR_PATH: tarball,
      PLUGIN_ACCESS_KEY: ACCESS_KEY,
      PLUGIN_SECRET_KEY: SECRET_KEY,
      PLUGIN_CREATE_REPOSITORY: "true",
      PLUGIN_SCAN_ON_PUSH: "true",
      PLUGIN_LIFECYCLE_POLICY: join(work.path, "lifecycle.json"),
      PLUGIN_REPOSITORY_POLICY: join(work.path, "policy.json"),
    }),
  });
  assert.equal(result.code, 0, result.stderr);
  const calls = aws.requests.slice(from).filter((r) => r.service === "ecr");
  const actions = calls.map((r) => r.action);
  assert.deepEqual(
    actions.filter((a) => a !== "GetAuthorizationToken"),
    ["DescribeRepositories", "CreateRepository", "PutLifecyclePolicy", "SetRepositoryPolicy"],
  );
  const create = calls.find((r) => r.action === "CreateRepository");
  assert.deepEqual(create?.params, {
    repositoryName: "team/created",
    imageScanningConfiguration: { scanOnPush: true },
  });
  assert.deepEqual(calls.find((r) => r.action === "PutLifecyclePolicy")?.params, {
    repositoryName: "team/created",
    lifecyclePolicyText: lifecycle,
  });
  assert.deepEqual(calls.find((r) => r.action === "SetRepositoryPolicy")?.params, {
    repositoryName: "team/created",
    policyText: policy,
  });
  assert.deepEqual(aws.repositories.get("team/created"), {
    name: "team/created",
    scanOnPush: true,
    lifecyclePolicyText: lifecycle,
    policyText: policy,
  });
  assert.match(result.stderr, /created repository team\/created \(scan on push: on\)/);
  await published("team/created", "latest");

  // An existing repository is not created again; its scan-on-push setting is brought in line.
  const again = aws.requests.length;
  const second = await runCli([], {
    env: ecrEnv("team/existing", {
      ...pushOnly,
      PLUGIN_SOURCE_TAR_PATH: tarball,
      PLUGIN_ACCESS_KEY: ACCESS_KEY,
      PLUGIN_SECRET_KEY: SECRET_KEY,
      PLUGIN_CREATE_REPOSITORY: "true",
      PLUGIN_SCAN_ON_PUSH: "true",
    }),
  });
  assert.equal(second.code, 0, second.stderr);
  const secondActions = aws.requests
    .slice(again)
    .map((r) => r.action)
    .filter((a) => a !== "GetAuthorizationToken");
  assert.deepEqual(secondActions, ["DescribeRepositories", "PutImageScanningConfiguration"]);
  assert.equal(aws.repositories.get("team/existing")?.scanOnPush, true);
});

test("a missing policy file is bad input: exit 2 before any AWS call or push", async () => {
  const from = aws.requests.length;
  const result = await runCli([], {
    env: ecrEnv("team/nopolicy", {
      ...pushOnly,
      PLUGIN_SOURCE_TAR_PATH: tarball,
      PLUGIN_ACCESS_KEY: ACCESS_KEY,
      PLUGIN_SECRET_KEY: SECRET_KEY,
      PLUGIN_LIFECYCLE_POLICY: join(work.path, "missing-lifecycle.json"),
    }),
  });
  assert.equal(result.code, 2, result.stderr);
  assert.match(result.stderr, /PLUGIN_LIFECYCLE_POLICY: .*missing-lifecycle\.json/);
  assert.equal(aws.requests.length, from, "no AWS call");
  await assert.rejects(published("team/nopolicy", "latest"));
});

const failures: { name: string; env: Record<string, string>; message: RegExp; setup?: () => void }[] = [
  {
    name: "a wrong secret key",
    env: { PLUGIN_ACCESS_KEY: ACCESS_KEY, PLUGIN_SECRET_KEY: "wrong-Secret-Key-1234" },
    message:
      /ECR login \(GetAuthorizationToken\) failed \(AWS credentials: static\): InvalidSignatureException, HTTP 403/,
  },
  {
    name: "an unknown access key",
    env: { PLUGIN_ACCESS_KEY: "AKIAUNKNOWN00000", PLUGIN_SECRET_KEY: SECRET_KEY },
    message: /ECR login \(GetAuthorizationToken\) failed .*UnrecognizedClientException/,
  },
  {
    name: "a wrong external id",
    env: {
      PLUGIN_ACCESS_KEY: ACCESS_KEY,
      PLUGIN_SECRET_KEY: SECRET_KEY,
      PLUGIN_ASSUME_ROLE: ROLE,
      PLUGIN_EXTERNAL_ID: "not-the-external-id",
    },
    message:
      /ECR credentials \(STS AssumeRole\) failed \(AWS credentials: assume-role\): AccessDenied, HTTP 403: .*sts:AssumeRole/,
  },
  {
    name: "an OIDC token STS does not accept",
    env: { PLUGIN_OIDC_TOKEN_ID: "eyJ.stale-Oidc-Token.sig", PLUGIN_ASSUME_ROLE: ROLE },
    message:
      /ECR credentials \(STS AssumeRoleWithWebIdentity\) failed \(AWS credentials: web-identity\): InvalidIdentityToken/,
  },
  {
    name: "an expired session from the environment",
    env: {
      AWS_ACCESS_KEY_ID: "ASIAEXPIREDSESSION1",
      AWS_SECRET_ACCESS_KEY: "expired-Secret-Key-77",
      AWS_SESSION_TOKEN: "expired-Session-Token-88",
    },
    setup: () =>
      aws.addKey("ASIAEXPIREDSESSION1", {
        secretAccessKey: "expired-Secret-Key-77",
        sessionToken: "expired-Session-Token-88",
        principal: ROLE,
        expired: true,
      }),
    message:
      /ECR login \(GetAuthorizationToken\) failed .*ExpiredTokenException, HTTP 403: The security token included in the request is expired/,
  },
];

for (const failure of failures) {
  test(`ECR with ${failure.name} fails with a clear message, and nothing is pushed`, async () => {
    failure.setup?.();
    const repository = `team/fail-${failure.name.toLowerCase().replace(/\W+/g, "-")}`;
    const result = await runCli([], {
      env: ecrEnv(repository, { ...pushOnly, PLUGIN_SOURCE_TAR_PATH: tarball, ...failure.env }),
    });
    assert.equal(result.code, 1, result.stderr);
    assert.match(result.stderr, failure.message);
    const secrets = Object.entries(failure.env)
      .filter(([k]) => /SECRET|TOKEN/.test(k))
      .map(([, v]) => v);
    for (const secret of secrets)
      assert.ok(!result.stderr.includes(secret), `a secret leaked: ${result.stderr}`);
    assertNoSecret(result.stdout + result.stderr);
    await assert.rejects(published(repository, "latest"));
  });
}

test("ECR Public logs in through ECR Public's API, in us-east-1", async () => {
  const settings = {
    repo: "public.ecr.aws/team/app",
    registry: "https://index.docker.io/v1/",
    region: "eu-west-1",
    accessKey: ACCESS_KEY,
    secretKey: SECRET_KEY,
    run: {},
  } as Settings;
  const target = ecrRegistryOf(settings);
  assert.deepEqual(target, { host: "public.ecr.aws", public: true, region: "us-east-1" });
  const from = aws.requests.length;
  const saved = { ...process.env };
  Object.assign(process.env, aws.env);
  try {
    const credential = await ecrLogin(target, awsCredentialProvider(settings, target.region), {
      addSecret: () => {},
      mask: (text) => text,
      settings,
    });
    assert.deepEqual(credential, { username: "AWS", password: ECR_PASSWORD });
  } finally {
    for (const key of Object.keys(aws.env)) {
      if (saved[key] === undefined) delete process.env[key];
      else process.env[key] = saved[key];
    }
  }
  const [call] = aws.requests.slice(from);
  assert.equal(call?.service, "ecr-public");
  assert.equal(call?.action, "GetAuthorizationToken");
  assert.equal(call?.region, "us-east-1");
  assert.equal(call?.accessKeyId, ACCESS_KEY);
});

test("ECR push-only with a named profile from the shared credentials file", async () => {
  const credentialsFile = join(work.path, "aws-credentials");
  await writeFile(
    credentialsFile,
    `[default]\naws_access_key_id = AKIANOTTHEONE0000\naws_secret_access_key = not-used\n\n[ci]\naws_access_key_id = ${ACCESS_KEY}\naws_secret_access_key = ${SECRET_KEY}\n`,
  );
  const from = aws.requests.length;
  const result = await runCli([], {
    env: ecrEnv("team/profile", {
      ...pushOnly,
      PLUGIN_SOURCE_TAR_PATH: tarball,
      PLUGIN_AWS_PROFILE: "ci",
      AWS_SHARED_CREDENTIALS_FILE: credentialsFile,
    }),
  });
  assert.equal(result.code, 0, result.stderr);
  const calls = aws.requests.slice(from).filter((r) => r.service === "ecr");
  assert.ok(calls.length > 0 && calls.every((r) => r.accessKeyId === ACCESS_KEY), JSON.stringify(calls));
  await published("team/profile", "latest");
  assertNoSecret(result.stdout + result.stderr);
});

test("ECR push-only with the default chain: the instance role from the metadata service", async () => {
  const from = aws.requests.length;
  const result = await runCli([], {
    env: ecrEnv("team/instance", {
      ...pushOnly,
      PLUGIN_SOURCE_TAR_PATH: tarball,
      AWS_EC2_METADATA_DISABLED: "false",
      AWS_EC2_METADATA_SERVICE_ENDPOINT: aws.imdsUrl,
    }),
  });
  assert.equal(result.code, 0, result.stderr);
  const calls = aws.requests.slice(from);
  assert.ok(
    calls.some((r) => r.service === "imds" && r.action === "PUT /latest/api/token"),
    JSON.stringify(calls),
  );
  const ecrCalls = calls.filter((r) => r.service === "ecr");
  assert.ok(ecrCalls.length > 0);
  for (const call of ecrCalls) {
    assert.equal(aws.keys.get(call.accessKeyId ?? "")?.principal, `arn:aws:iam::${ACCOUNT_ID}:role/instance`);
  }
  await published("team/instance", "latest");
  assertNoSecret(result.stdout + result.stderr);
});

test("ECR with no AWS credentials anywhere names the default chain", async () => {
  const result = await runCli([], {
    env: ecrEnv("team/nocredentials", { ...pushOnly, PLUGIN_SOURCE_TAR_PATH: tarball }),
  });
  assert.equal(result.code, 1, result.stderr);
  assert.match(
    result.stderr,
    /ECR credentials \(default credential chain\) failed \(AWS credentials: default-chain\): CredentialsProviderError/,
  );
});

test("a repository step the AWS identity may not take fails naming the step, the code and the permission", async () => {
  aws.deny.add("CreateRepository");
  try {
    const result = await runCli([], {
      env: ecrEnv("team/denied", {
        ...pushOnly,
        PLUGIN_SOURCE_TAR_PATH: tarball,
        PLUGIN_ACCESS_KEY: ACCESS_KEY,
        PLUGIN_SECRET_KEY: SECRET_KEY,
        PLUGIN_CREATE_REPOSITORY: "true",
      }),
    });
    assert.equal(result.code, 1, result.stderr);
    assert.match(
      result.stderr,
      /ECR CreateRepository for repository team\/denied failed: AccessDeniedException, HTTP 400: User: .* is not authorized to perform: ecr:CreateRepository .*; the AWS identity needs the IAM permission ecr:CreateRepository/,
    );
    await assert.rejects(published("team/denied", "latest"));
    assertNoSecret(result.stdout + result.stderr);
  } finally {
    aws.deny.delete("CreateRepository");
  }
});
