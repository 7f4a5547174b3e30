/**
 * The Harness contract, end to end: buildx-step in plugin mode with exactly the variables Harness's Build and
 * Push steps send on a VM (harness-core 332-ci-manager PluginSettingUtils; each table names its method; the
 * DRONE_OUTPUT / PLUGIN_ARTIFACT_FILE / PLUGIN_METADATA_FILE paths are what Harness's lite-engine adds on a VM)
 * against the real engine and real registries, checking where the image went, its digest, DRONE_OUTPUT and
 * the artifact file. Every registry answers under the name Harness sends, mapped to a loopback address for
 * the test, over TLS with a CA the test makes: ECR as 123456789012.dkr.ecr.eu-west-1.amazonaws.com with the
 * fake ECR API the real AWS SDK signs requests to; GCR as gcr.io and Artifact Registry as
 * us-docker.pkg.dev with the service account key; ACR as myregistry.azurecr.io, its /oauth2/exchange in
 * front, with a fake Azure AD.
 *
 * The seed's two flows: (a) the ECR pipeline: build-only to image.tar, a scan of the tarball, push-only of
 * image.tar; (b) the VM flow: a stage-level PLUGIN_DRY_RUN=true, a `docker run` of the built image, then a
 * push-only step that pushes it from the engine.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdir, readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { promisify } from "node:util";
import { parse } from "yaml";
import { MANIFEST_MEDIA_TYPES } from "../../lib/reference/media-types.js";
import { startAcrFront } from "../helpers/acr-front.js";
import { runCli } from "../helpers/cli.js";
import { runImage } from "../helpers/engine.js";
import { examplesDir, runStepCommands, writeStandIns } from "../helpers/example-runner.js";
import { ACCOUNT_ID, type FakeAws, startFakeAws } from "../helpers/fake-aws.js";
import { startFakeAzureAd } from "../helpers/fake-azure-ad.js";
import { buildTarball, registryManifest, registryTags, sampleContext } from "../helpers/images.js";
import {
  addHostsEntry,
  type NamedRegistry,
  removeHostsEntry,
  startNamedRegistry,
} from "../helpers/named-registry.js";
import { type RegistryServer, startRegistry } from "../helpers/registry.js";
import { tempDir } from "../helpers/tmp.js";

/** Every manifest type, so the registry serves what it stores (asked for less, it may convert it). */
const MANIFEST_TYPES = MANIFEST_MEDIA_TYPES.join(", ");

const exec = promisify(execFile);

const ECR_HOST = `${ACCOUNT_ID}.dkr.ecr.eu-west-1.amazonaws.com`;
const ECR_PASSWORD = "ecr-Harness-Token-7f1c";
const ACCESS_KEY = "AKIAHARNESSEXAMPLE01";
const SECRET_KEY = "harness-Secret-Key-4b8e";

let work: Awaited<ReturnType<typeof tempDir>>;
let ecr: NamedRegistry;
let aws: FakeAws;
let docker: RegistryServer;
const DOCKER_USER = { username: "harness-ci", password: "docker-Connector-Pw-9d2" };
const engineNames: string[] = [];

before(async () => {
  work = await tempDir("harness-contract-");
  ecr = await startNamedRegistry(ECR_HOST, { auth: { username: "AWS", password: ECR_PASSWORD } });
  aws = await startFakeAws({
    registry: { url: `https://${ECR_HOST}`, username: "AWS", password: ECR_PASSWORD },
    users: { [ACCESS_KEY]: SECRET_KEY },
  });
  docker = await startRegistry({ auth: DOCKER_USER });
});
after(async () => {
  if (engineNames.length > 0)
    await exec("docker", ["image", "rm", "--force", ...engineNames]).catch(() => {});
  await aws?.stop();
  await ecr?.stop();
  await docker?.stop();
  await work?.remove();
});

/** A Harness workspace (what the stage cloned) and the lite-engine's shared folder for the step's files. */
async function workspace(label: string) {
  const dir = join(work.path, `${label}-${randomBytes(3).toString("hex")}`);
  await sampleContext(dir);
  const shared = join(dir, ".engine");
  await mkdir(shared);
  return { dir, shared };
}

/** What lite-engine adds to every VM step (harness/lite-engine pipeline/runtime/run.go). */
function liteEngineEnv(shared: string, stepId: string): Record<string, string> {
  return {
    DRONE_OUTPUT: join(shared, `${stepId}-output.env`),
    HARNESS_OUTPUT_FILE: join(shared, `${stepId}-output.env`),
    PLUGIN_ARTIFACT_FILE: join(shared, `${stepId}-artifact`),
  };
}

/**
 * BuildAndPushECR on a VM: getECRStepInfoEnvVariables (account 123456789012, region eu-west-1, imageName
 * test-image, tags [new-1], an AWS connector with manual keys). PLUGIN_METADATA_FILE is the step's own
 * `buildx-metadata.json`, which lite-engine rewrites into its shared folder.
 */
function ecrStepEnv(shared: string, stepId: string): Record<string, string> {
  return {
    PLUGIN_REGISTRY: ECR_HOST,
    PLUGIN_REPO: "test-image",
    PLUGIN_TAGS: "new-1",
    PLUGIN_REGION: "eu-west-1",
    PLUGIN_DAEMON_OFF: "true",
    PLUGIN_METADATA_FILE: join(shared, `${stepId}-buildx-metadata.json`),
    PLUGIN_ACCESS_KEY: ACCESS_KEY,
    PLUGIN_SECRET_KEY: SECRET_KEY,
    ...liteEngineEnv(shared, stepId),
    // The machine, not Harness: the fake AWS API, no other AWS set-up, and trust in the test's CA.
    ...aws.env,
    AWS_EC2_METADATA_DISABLED: "true",
    AWS_CONFIG_FILE: join(work.path, "no-aws-config"),
    AWS_SHARED_CREDENTIALS_FILE: join(work.path, "no-aws-credentials"),
    ...ecr.env,
  };
}

/**
 * BuildAndPushDockerRegistry on a VM: getDockerStepInfoEnvVariables (repo verbatim; the connector's URL,
 * user and password).
 */
function dockerStepEnv(shared: string, stepId: string, repo: string): Record<string, string> {
  return {
    PLUGIN_REPO: repo,
    PLUGIN_TAGS: "v1",
    PLUGIN_DAEMON_OFF: "true",
    PLUGIN_REGISTRY: `http://${docker.host}/v2/`,
    PLUGIN_USERNAME: DOCKER_USER.username,
    PLUGIN_PASSWORD: DOCKER_USER.password,
    ...liteEngineEnv(shared, stepId),
  };
}

async function ecrCatalog(): Promise<string[]> {
  const { stdout } = await exec("curl", [
    "-fsS",
    "--cacert",
    ecr.caFile,
    "-u",
    `AWS:${ECR_PASSWORD}`,
    `https://${ECR_HOST}/v2/_catalog`,
  ]);
  return (JSON.parse(stdout) as { repositories: string[] }).repositories;
}

async function ecrServed(reference: string) {
  return registryManifest(`${ECR_HOST}/${reference}`, {
    tls: true,
    caDir: ecr.certDir,
    creds: `AWS:${ECR_PASSWORD}`,
  });
}

function dotenv(text: string): Record<string, string> {
  return Object.fromEntries(
    text
      .split("\n")
      .filter((line) => line.includes("="))
      .map((line) => [line.slice(0, line.indexOf("=")), line.slice(line.indexOf("=") + 1)]),
  );
}

interface Artifact {
  kind: string;
  data: { registryType: string; registryUrl: string; images: { image: string; digest: string }[] };
}

async function artifact(shared: string, stepId: string): Promise<Artifact> {
  return JSON.parse(await readFile(join(shared, `${stepId}-artifact`), "utf8")) as Artifact;
}

interface HarnessStage {
  variables: { name: string; type: string; value: string }[];
  spec: {
    execution: {
      steps: {
        step: {
          identifier: string;
          spec: {
            command: string;
            envVariables?: Record<string, string>;
            outputVariables?: { name: string }[];
          };
        };
      }[];
    };
  };
}

function assertNoSecrets(output: string): void {
  for (const secret of [SECRET_KEY, ECR_PASSWORD, DOCKER_USER.password]) {
    assert.ok(!output.includes(secret), "a secret reached the output");
  }
}

describe("Harness contract", { concurrency: false }, () => {
  test("BuildAndPushECR (VM): the bare image name goes to the ECR registry, not to Docker Hub", async () => {
    const { dir, shared } = await workspace("ecr-push");
    const result = await runCli([], { cwd: dir, env: ecrStepEnv(shared, "build_push") });
    assert.equal(result.code, 0, result.stderr);
    assertNoSecrets(result.stdout + result.stderr);
    assert.match(result.stderr, new RegExp(`--tag ${ECR_HOST}/test-image:new-1`));
    assert.deepEqual(await ecrCatalog(), ["test-image"]);
    const served = await ecrServed("test-image:new-1");
    const output = dotenv(await readFile(join(shared, "build_push-output.env"), "utf8"));
    assert.equal(output.digest, served.digest);
    assert.deepEqual(await artifact(shared, "build_push"), {
      kind: "docker/v1",
      // The ECR wrapper sets no registry type: Harness shows ECR images as Docker (as with the plugin).
      data: {
        registryType: "Docker",
        registryUrl: ECR_HOST,
        images: [{ image: `${ECR_HOST}/test-image:new-1`, digest: served.digest }],
      },
    });
    // The metadata file lite-engine asked for is buildx's, with the same digest.
    const metadata = JSON.parse(
      await readFile(join(shared, "build_push-buildx-metadata.json"), "utf8"),
    ) as Record<string, unknown>;
    assert.equal(metadata["containerimage.digest"], served.digest);
    assert.equal(aws.calls("GetAuthorizationToken")[0]?.accessKeyId, ACCESS_KEY);
  });

  test("the seed's ECR pipeline: build-only to image.tar, a scan of the tarball, push-only of exactly it", async () => {
    const { dir, shared } = await workspace("seed-ecr");
    const catalogBefore = await ecrCatalog();
    // Step 1, BuildOnly: the step's envVariables PLUGIN_NO_PUSH and PLUGIN_TAR_PATH on top of Harness's.
    const build = await runCli([], {
      cwd: dir,
      env: { ...ecrStepEnv(shared, "BuildOnly"), PLUGIN_NO_PUSH: "true", PLUGIN_TAR_PATH: "image.tar" },
    });
    assert.equal(build.code, 0, build.stderr);
    assertNoSecrets(build.stdout + build.stderr);
    const tarball = join(dir, "image.tar");
    assert.ok((await stat(tarball)).size > 1000);
    const built = dotenv(await readFile(join(shared, "BuildOnly-output.env"), "utf8"));
    assert.equal(built.IMAGE_TAR_PATH, tarball);
    assert.match(built.digest ?? "", /^sha256:[a-f0-9]{64}$/);
    assert.deepEqual(await ecrCatalog(), catalogBefore, "build-only pushed nothing");
    // The plugin's dry run + tar path leaves the image in the engine too, under the joined name.
    engineNames.push(`${ECR_HOST}/test-image:new-1`);
    const { stdout: engineId } = await exec("docker", [
      "image",
      "inspect",
      "--format",
      "{{.Id}}",
      `${ECR_HOST}/test-image:new-1`,
    ]);
    assert.equal(engineId.trim(), built.digest);

    // Step 2, the scan: an independent reader of the tarball (skopeo reads docker-archives as Trivy does).
    const scanned = JSON.parse(
      (await exec("skopeo", ["inspect", "--raw", `docker-archive:${tarball}`])).stdout,
    ) as { config: { digest: string }; layers: { digest: string }[] };

    // Step 3, push_only: PLUGIN_PUSH_ONLY and PLUGIN_SOURCE_TAR_PATH on top of the same Harness variables.
    const push = await runCli([], {
      cwd: dir,
      env: {
        ...ecrStepEnv(shared, "push_only"),
        PLUGIN_PUSH_ONLY: "true",
        PLUGIN_SOURCE_TAR_PATH: "image.tar",
      },
    });
    assert.equal(push.code, 0, push.stderr);
    assertNoSecrets(push.stdout + push.stderr);
    assert.ok((await ecrCatalog()).includes("test-image"));
    const served = await ecrServed("test-image:new-1");
    assert.equal(served.digest, built.digest, "the registry serves the digest the build step reported");
    const servedManifest = served.json as { config: { digest: string } };
    assert.equal(servedManifest.config.digest, scanned.config.digest, "the image that was scanned");
    const pushed = dotenv(await readFile(join(shared, "push_only-output.env"), "utf8"));
    assert.equal(pushed.digest, built.digest);
    assert.deepEqual((await artifact(shared, "push_only")).data.images, [
      { image: `${ECR_HOST}/test-image:new-1`, digest: built.digest },
    ]);
  });

  test("the seed's VM flow: stage-level dry run leaves the image in the engine, a step runs it, push-only pushes it from there", async () => {
    const { dir, shared } = await workspace("seed-vm");
    const repository = `team/vm-${randomBytes(3).toString("hex")}`;
    const repo = `${docker.host}/${repository}`;
    // Stage variables reach every step of the stage.
    const stage = { PLUGIN_DRY_RUN: "true", PLUGIN_DAEMON_OFF: "true" };

    const build = await runCli(["--json"], {
      cwd: dir,
      env: { ...dockerStepEnv(shared, "build", repo), ...stage },
    });
    assert.equal(build.code, 0, build.stderr);
    engineNames.push(`${repo}:v1`);
    assert.deepEqual(await registryTags(docker.url, repository).catch(() => []), []);
    const built = JSON.parse(build.stdout) as { digest: string };

    // A later step of the stage runs (or scans) the image from the engine.
    const stdout = await runImage(`${repo}:v1`);
    assert.equal(stdout.length, 32, "the sample's unique text");

    const push = await runCli(["--json"], {
      cwd: dir,
      env: { ...dockerStepEnv(shared, "push", repo), ...stage, PLUGIN_PUSH_ONLY: "true" },
    });
    assert.equal(push.code, 0, push.stderr);
    assertNoSecrets(push.stdout + push.stderr);
    assert.match(push.stderr, /PLUGIN_PUSH_ONLY and PLUGIN_DRY_RUN are both true: this step pushes/);
    const response = await fetch(`${docker.url}/v2/${repository}/manifests/v1`, {
      method: "HEAD",
      headers: {
        authorization: `Basic ${Buffer.from(`${DOCKER_USER.username}:${DOCKER_USER.password}`).toString("base64")}`,
        accept: MANIFEST_TYPES,
      },
    });
    const served = response.headers.get("docker-content-digest");
    assert.equal(response.status, 200);
    const result = JSON.parse(push.stdout) as { digest: string; mode: string };
    assert.equal(result.mode, "push-only");
    assert.equal(result.digest, served);
    assert.equal(served, built.digest, "the containerd store pushes the image it built, digest and all");
    assert.equal(dotenv(await readFile(join(shared, "push-output.env"), "utf8")).digest, served);
    assert.deepEqual((await artifact(shared, "push")).data.images, [{ image: `${repo}:v1`, digest: served }]);
  });

  test("examples/harness/build-scan-push.yaml: each Run step as Harness runs it on a VM", async () => {
    const { dir, shared } = await workspace("example");
    const pipeline = parse(await readFile(join(examplesDir, "harness", "build-scan-push.yaml"), "utf8")) as {
      pipeline: { stages: { stage: HarnessStage }[] };
    };
    const stage = pipeline.pipeline.stages[0]?.stage as HarnessStage;
    const secrets: Record<string, string> = { aws_access_key: ACCESS_KEY, aws_secret_key: SECRET_KEY };
    const stageEnv: Record<string, string> = {};
    for (const variable of stage.variables) {
      stageEnv[variable.name] = variable.type === "Secret" ? (secrets[variable.value] ?? "") : variable.value;
    }
    const outputs: Record<string, Record<string, string>> = {};
    // Harness expressions the example uses: the run's sequence id and an earlier step's output variable.
    const expand = (value: string) =>
      value
        .replaceAll("<+pipeline.sequenceId>", "42")
        .replace(
          /<\+steps\.(\w+)\.output\.outputVariables\.(\w+)>/g,
          (_, step: string, name: string) => outputs[step]?.[name] ?? "",
        );
    const standIns = await writeStandIns(join(dir, ".tools"));
    const ecrEnv = ecrStepEnv(shared, "unused");
    const machine = Object.fromEntries(
      Object.entries(ecrEnv).filter(([name]) => name.startsWith("AWS_") || name === "NODE_EXTRA_CA_CERTS"),
    );
    for (const { step } of stage.spec.execution.steps) {
      const env: Record<string, string> = {
        PATH: standIns.path,
        ...machine,
        ...liteEngineEnv(shared, step.identifier),
      };
      for (const [name, value] of Object.entries(stageEnv)) env[name] = expand(value);
      for (const [name, value] of Object.entries(step.spec.envVariables ?? {})) env[name] = expand(value);
      // lite-engine reads a Run step's output variables from its shell once the command is done.
      const outputFile = join(shared, `${step.identifier}-vars`);
      const capture = (step.spec.outputVariables ?? []).map(
        (v) => `printf '%s=%s\\n' ${v.name} "$${v.name}" >> "${outputFile}"`,
      );
      const result = await runStepCommands([step.spec.command, ...capture].join("\n"), dir, env);
      assert.equal(result.code, 0, `${step.identifier}: ${result.stderr}`);
      assertNoSecrets(result.stdout + result.stderr);
      outputs[step.identifier] = dotenv(await readFile(outputFile, "utf8").catch(() => ""));
    }
    const digest = outputs.BuildOnly?.digest;
    assert.match(digest ?? "", /^sha256:[a-f0-9]{64}$/);
    assert.equal((await ecrServed("test-image:new-42")).digest, digest);
    assert.match(await readFile(standIns.scanLog, "utf8"), /image\.tar/);
    engineNames.push(`${ECR_HOST}/test-image:new-42`);
  });

  test("BuildAndPushGCR and BuildAndPushGAR (VM): host/project + image name, logged in with the JSON key", async () => {
    // getGCRStepInfoEnvVariables / getGARStepInfoEnvVariables, VM, a GCP connector with a service account
    // key: PLUGIN_REGISTRY=<host>/<project>, PLUGIN_REPO=<imageName>, PLUGIN_JSON_KEY (GAR: also
    // PLUGIN_REGISTRY_TYPE=gar). The names gcr.io and us-docker.pkg.dev are mapped to loopback addresses.
    const jsonKey = JSON.stringify({
      type: "service_account",
      project_id: "my-project",
      private_key_id: randomBytes(8).toString("hex"),
    });
    const rows = [
      {
        name: "gcr.io",
        address: "127.0.0.3",
        env: { PLUGIN_REGISTRY: "gcr.io/my-project", PLUGIN_REPO: "test-image" },
        repository: "my-project/test-image",
        registryType: "GCR",
      },
      {
        name: "us-docker.pkg.dev",
        address: "127.0.0.4",
        env: {
          PLUGIN_REGISTRY: "us-docker.pkg.dev/my-project",
          PLUGIN_REPO: "my-repo/test-image",
          PLUGIN_REGISTRY_TYPE: "gar",
        },
        repository: "my-project/my-repo/test-image",
        registryType: "GAR",
      },
    ];
    for (const row of rows) {
      const google = await startNamedRegistry(row.name, {
        auth: { username: "_json_key", password: jsonKey },
        address: row.address,
      });
      try {
        const { dir, shared } = await workspace(row.registryType.toLowerCase());
        const tarball = join(dir, "image.tar");
        await buildTarball({ context: dir, dest: tarball, format: "oci" });
        const result = await runCli([], {
          cwd: dir,
          env: {
            ...row.env,
            PLUGIN_TAGS: "new-1",
            PLUGIN_DAEMON_OFF: "true",
            PLUGIN_JSON_KEY: jsonKey,
            ...liteEngineEnv(shared, "build_push"),
            PLUGIN_PUSH_ONLY: "true",
            PLUGIN_SOURCE_TAR_PATH: "image.tar",
            ...google.env,
          },
        });
        assert.equal(result.code, 0, result.stderr);
        assert.ok(!(result.stdout + result.stderr).includes(jsonKey), "the key is not printed");
        const served = await registryManifest(`${row.name}/${row.repository}:new-1`, {
          tls: true,
          caDir: google.certDir,
          creds: `_json_key:${jsonKey}`,
        });
        const output = dotenv(await readFile(join(shared, "build_push-output.env"), "utf8"));
        assert.equal(output.digest, served.digest);
        assert.deepEqual((await artifact(shared, "build_push")).data, {
          registryType: row.registryType,
          registryUrl: row.env.PLUGIN_REGISTRY,
          images: [{ image: `${row.name}/${row.repository}:new-1`, digest: served.digest }],
        });
      } finally {
        await google.stop();
      }
    }
  });

  test("BuildAndPushACR (VM): the service principal's token exchanged at the registry, the repo as sent", async () => {
    // getACRStepInfoEnvVariables, VM, an Azure connector with a client secret: PLUGIN_REPO is the full
    // repository, PLUGIN_REGISTRY its host, SUBSCRIPTION_ID, and CLIENT_ID/TENANT_ID/CLIENT_SECRET. The
    // registry's /oauth2/exchange is a front on myregistry.azurecr.io:443 (mapped to 127.0.0.5); Azure AD a
    // fake the machine's AZURE_AUTHORITY_HOST points at.
    const name = "myregistry.azurecr.io";
    const tenant = "8f4c2a1e-6b7d-4e3f-9a0b-1c2d3e4f5a6b";
    const clientId = "3b9e7c1d-2a4f-4b6e-8d0c-5f1a2b3c4d5e";
    const clientSecret = `client-Secret~${randomBytes(8).toString("hex")}`;
    const refreshToken = `acr-Refresh-Token-${randomBytes(12).toString("hex")}`;
    const nullUser = "00000000-0000-0000-0000-000000000000";
    const aad = await startFakeAzureAd({ apps: [{ tenant, clientId, secret: clientSecret }] });
    const acr = await startRegistry({
      auth: { username: nullUser, password: refreshToken },
      tls: true,
      names: [name],
    });
    const front = await startAcrFront({
      registry: acr,
      aad,
      refreshToken,
      clientsWithRole: [clientId],
      listen: { address: "127.0.0.5", port: 443, name },
    });
    await addHostsEntry(name, "127.0.0.5");
    try {
      const { dir, shared } = await workspace("acr");
      const tarball = join(dir, "image.tar");
      await buildTarball({ context: dir, dest: tarball, format: "oci" });
      // One CA file for the process: the registry's and Azure AD's.
      const cas = join(dir, ".cas.pem");
      await writeFile(
        cas,
        `${await readFile(acr.caFile as string, "utf8")}${await readFile(aad.caFile, "utf8")}`,
      );
      const result = await runCli([], {
        cwd: dir,
        env: {
          PLUGIN_REPO: `${name}/test-image`,
          PLUGIN_REGISTRY: name,
          SUBSCRIPTION_ID: "sub-123",
          PLUGIN_TAGS: "new-1",
          PLUGIN_DAEMON_OFF: "true",
          CLIENT_ID: clientId,
          TENANT_ID: tenant,
          CLIENT_SECRET: clientSecret,
          ...liteEngineEnv(shared, "build_push"),
          PLUGIN_PUSH_ONLY: "true",
          PLUGIN_SOURCE_TAR_PATH: "image.tar",
          AZURE_AUTHORITY_HOST: aad.url,
          NODE_EXTRA_CA_CERTS: cas,
        },
      });
      assert.equal(result.code, 0, result.stderr);
      for (const secret of [clientSecret, refreshToken, ...aad.issued.keys()]) {
        assert.ok(!(result.stdout + result.stderr).includes(secret), "a secret reached the output");
      }
      assert.equal(front.exchanges.length, 1);
      assert.equal(front.exchanges[0]?.form.service, name);
      const certDir = join(dir, ".certs");
      await mkdir(certDir);
      await writeFile(join(certDir, "ca.crt"), await readFile(acr.caFile as string));
      const served = await registryManifest(`${name}/test-image:new-1`, {
        tls: true,
        caDir: certDir,
        creds: `${nullUser}:${refreshToken}`,
      });
      assert.equal(
        dotenv(await readFile(join(shared, "build_push-output.env"), "utf8")).digest,
        served.digest,
      );
      assert.deepEqual((await artifact(shared, "build_push")).data, {
        registryType: "ACR",
        registryUrl: name,
        images: [{ image: `${name}/test-image:new-1`, digest: served.digest }],
      });
    } finally {
      await removeHostsEntry(name).catch(() => {});
      await front.stop();
      await acr.stop();
      await aad.stop();
    }
  });

  test("Kubernetes rows of the table: the kaniko-only variables are named as ignored, the repo joined", async () => {
    // getECRStepInfoEnvVariables on K8: PLUGIN_SNAPSHOT_MODE and the addon's artifact file besides the VM's set.
    const result = await runCli(["config", "--json"], {
      cwd: work.path,
      env: {
        PLUGIN_REGISTRY: ECR_HOST,
        PLUGIN_REPO: "test-image",
        PLUGIN_TAGS: "new-1",
        PLUGIN_REGION: "eu-west-1",
        PLUGIN_SNAPSHOT_MODE: "redo",
        PLUGIN_ARTIFACT_FILE: join(work.path, "addon-artifact"),
        PLUGIN_ACCESS_KEY: ACCESS_KEY,
        PLUGIN_SECRET_KEY: SECRET_KEY,
      },
    });
    assert.equal(result.code, 0, result.stderr);
    assertNoSecrets(result.stdout + result.stderr);
    const json = JSON.parse(result.stdout) as {
      settings: Record<string, { value: unknown; from: string }>;
      warnings: string[];
    };
    assert.equal(json.settings.repo?.value, `${ECR_HOST}/test-image`);
    assert.match(json.settings.repo?.from ?? "", /^env PLUGIN_REPO, joined with PLUGIN_REGISTRY/);
    assert.ok(
      json.warnings.some((w) => /PLUGIN_SNAPSHOT_MODE is accepted for compatibility and ignored/.test(w)),
    );
  });
});
