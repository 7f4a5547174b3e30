import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { awsCredentialMode, credentialStepName, roleSessionName } from "../../lib/auth/aws-credentials.js";
import { awsStepFailure, decodeEcrToken } from "../../lib/auth/ecr.js";
import { ecrRegistryOf, parseEcrHost } from "../../lib/auth/ecr-registry.js";
import { ecrRepositoryName, ecrRepositoryPlan } from "../../lib/auth/ecr-repository.js";
import type { Settings } from "../../lib/config/settings.js";
import { StepFailure, UsageError } from "../../lib/errors.js";

const settings = (overrides: Partial<Settings>): Settings =>
  ({
    registry: "https://index.docker.io/v1/",
    region: "us-east-1",
    createRepository: false,
    scanOnPush: false,
    run: {},
    ...overrides,
  }) as Settings;

test("ECR hosts: private (account, region, FIPS, China) and public", () => {
  assert.deepEqual(parseEcrHost("123456789012.dkr.ecr.eu-west-1.amazonaws.com"), {
    accountId: "123456789012",
    region: "eu-west-1",
    public: false,
  });
  assert.deepEqual(parseEcrHost("https://123456789012.dkr.ecr-fips.us-gov-west-1.amazonaws.com/"), {
    accountId: "123456789012",
    region: "us-gov-west-1",
    public: false,
  });
  assert.equal(parseEcrHost("123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn")?.region, "cn-north-1");
  assert.deepEqual(parseEcrHost("public.ecr.aws"), { public: true });
  assert.equal(parseEcrHost("12345.dkr.ecr.us-east-1.amazonaws.com"), undefined);
  assert.equal(parseEcrHost("ghcr.io"), undefined);
});

test("a run pushes to ECR by its registry, its repo, or PLUGIN_REGISTRY_TYPE", () => {
  assert.deepEqual(
    ecrRegistryOf(settings({ repo: "123456789012.dkr.ecr.eu-west-1.amazonaws.com/team/app" })),
    {
      host: "123456789012.dkr.ecr.eu-west-1.amazonaws.com",
      public: false,
      region: "eu-west-1",
      accountId: "123456789012",
    },
  );
  assert.equal(
    ecrRegistryOf(
      settings({ registry: "123456789012.dkr.ecr.eu-west-1.amazonaws.com", repo: "app", region: "x" }),
    )?.region,
    "eu-west-1",
    "the host's region wins over PLUGIN_REGION",
  );
  assert.deepEqual(
    ecrRegistryOf(
      settings({
        registry: "registry.corp:5000",
        repo: "registry.corp:5000/app",
        registryType: "ecr",
        region: "ap-south-1",
      }),
    ),
    { host: "registry.corp:5000", public: false, region: "ap-south-1" },
  );
  assert.deepEqual(ecrRegistryOf(settings({ repo: "public.ecr.aws/team/app" })), {
    host: "public.ecr.aws",
    public: true,
    region: "us-east-1",
  });
  assert.equal(ecrRegistryOf(settings({ repo: "ghcr.io/team/app" })), undefined);
  assert.equal(
    ecrRegistryOf(settings({ repo: "team/app", registryType: "ECR" })),
    undefined,
    "Docker Hub is never ECR",
  );
});

test("credential modes, in the Drone ECR plugin's order", () => {
  assert.equal(awsCredentialMode(settings({})), "default-chain");
  assert.equal(awsCredentialMode(settings({ awsProfile: "ci" })), "profile");
  assert.equal(awsCredentialMode(settings({ accessKey: "AKIA", secretKey: "s" })), "static");
  assert.equal(
    awsCredentialMode(settings({ accessKey: "AKIA", secretKey: "s", assumeRole: "arn:r" })),
    "assume-role",
  );
  assert.equal(awsCredentialMode(settings({ assumeRole: "arn:r", oidcTokenId: "jwt" })), "web-identity");
  assert.throws(
    () => awsCredentialMode(settings({ accessKey: "AKIA" })),
    (e: Error) => {
      assert.ok(e instanceof UsageError);
      assert.match(e.message, /PLUGIN_ACCESS_KEY is set without PLUGIN_SECRET_KEY/);
      return true;
    },
  );
  assert.throws(
    () => awsCredentialMode(settings({ oidcTokenId: "jwt" })),
    /PLUGIN_OIDC_TOKEN_ID needs PLUGIN_ASSUME_ROLE/,
  );
  assert.throws(
    () => awsCredentialMode(settings({ externalId: "x" })),
    /PLUGIN_EXTERNAL_ID is only used with/,
  );
  assert.equal(credentialStepName("assume-role"), "STS AssumeRole");
  assert.equal(roleSessionName(settings({ run: { buildNumber: "42" } })), "buildx-step-42");
});

test("an ECR token is base64 of AWS:password", () => {
  assert.deepEqual(decodeEcrToken(Buffer.from("AWS:pa:ss").toString("base64")), {
    username: "AWS",
    password: "pa:ss",
  });
  assert.throws(() => decodeEcrToken(Buffer.from("nothing").toString("base64")), StepFailure);
});

test("an AWS failure names the step and AWS's code, masked", () => {
  const error = Object.assign(new Error("key AKIASECRET is bad"), {
    name: "UnrecognizedClientException",
    $metadata: { httpStatusCode: 400 },
  });
  const failure = awsStepFailure("login (GetAuthorizationToken)", error, (t) =>
    t.replaceAll("AKIASECRET", "***"),
  );
  assert.ok(failure instanceof StepFailure);
  assert.equal(
    failure.message,
    "ECR login (GetAuthorizationToken) failed: UnrecognizedClientException, HTTP 400: key *** is bad",
  );
});

test("the repository name is PLUGIN_REPO without its registry", () => {
  assert.equal(
    ecrRepositoryName(
      "123456789012.dkr.ecr.eu-west-1.amazonaws.com/team/app",
      "123456789012.dkr.ecr.eu-west-1.amazonaws.com",
    ),
    "team/app",
  );
  assert.equal(ecrRepositoryName("team/app", "123456789012.dkr.ecr.eu-west-1.amazonaws.com"), "team/app");
  assert.equal(ecrRepositoryName("127.0.0.1:5000/app", "127.0.0.1:5000"), "app");
  assert.throws(
    () => ecrRepositoryName("r.example.com/Team/App", "r.example.com"),
    /not a valid ECR repository name/,
  );
  assert.throws(() => ecrRepositoryName("", "r"), UsageError);
});

test("the repository plan reads and checks the policy files before any AWS call", async () => {
  const dir = await mkdtemp(join(tmpdir(), "auth-ecr-"));
  try {
    const registry = {
      host: "123456789012.dkr.ecr.us-east-1.amazonaws.com",
      public: false,
      region: "us-east-1",
    };
    const repo = `${registry.host}/team/app`;
    assert.equal(await ecrRepositoryPlan(settings({ repo }), registry, dir), undefined);
    await writeFile(join(dir, "lifecycle.json"), '{"rules":[]}');
    await writeFile(join(dir, "policy.json"), '{"Version":"2012-10-17","Statement":[]}');
    await writeFile(join(dir, "broken.json"), "{not json");
    assert.deepEqual(
      await ecrRepositoryPlan(
        settings({
          repo,
          createRepository: true,
          scanOnPush: true,
          lifecyclePolicy: "lifecycle.json",
          repositoryPolicy: join(dir, "policy.json"),
        }),
        registry,
        dir,
      ),
      {
        repositoryName: "team/app",
        create: true,
        scanOnPush: true,
        lifecyclePolicyText: '{"rules":[]}',
        repositoryPolicyText: '{"Version":"2012-10-17","Statement":[]}',
      },
    );
    await assert.rejects(
      ecrRepositoryPlan(settings({ repo, lifecyclePolicy: "missing.json" }), registry, dir),
      (e: Error) => {
        assert.ok(e instanceof UsageError);
        assert.match(e.message, /^PLUGIN_LIFECYCLE_POLICY: cannot read .*missing\.json \(ENOENT\)/);
        return true;
      },
    );
    await assert.rejects(
      ecrRepositoryPlan(settings({ repo, repositoryPolicy: "broken.json" }), registry, dir),
      /PLUGIN_REPOSITORY_POLICY: .*broken\.json is not valid JSON/,
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
