// PLUGIN_REGISTRY_CA and PLUGIN_INSECURE in builds, through the real CLI and engine: the docker driver's
// build says what the engine needs; a created builder's buildkitd.toml (ours, merged with the user's) is
// accepted by `docker buildx create`, which parses it and reads the CA file then. (The builder cannot boot
// here: no BuildKit image can be pulled.)
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { promisify } from "node:util";
import { runCli } from "../helpers/cli.js";
import { sampleContext } from "../helpers/images.js";
import { selfSignedCertificate } from "../helpers/registry.js";
import { tempDir } from "../helpers/tmp.js";

const exec = promisify(execFile);
let work: Awaited<ReturnType<typeof tempDir>>;
let caFile: string;
const loaded: string[] = [];

before(async () => {
  work = await tempDir("buildx-step-build-tls-");
  caFile = join(work.path, "ca.pem");
  selfSignedCertificate("buildx-step test CA", join(work.path, "ca-key.pem"), caFile);
});
after(async () => {
  if (loaded.length > 0) await exec("docker", ["rmi", "--force", ...loaded]).catch(() => undefined);
  await work?.remove();
});

const unique = () => randomBytes(4).toString("hex");

test("docker driver: the build runs, and the log says what the engine needs for the registry's CA and HTTP", async () => {
  const context = await sampleContext(join(work.path, "engine"));
  // A registry this machine's engine has no certs.d folder for; a dry run only loads, nothing is pulled.
  const host = `bxs-${unique()}.invalid:5000`;
  const repo = `${host}/app`;
  const result = await runCli([], {
    cwd: context,
    env: {
      PLUGIN_REPO: repo,
      PLUGIN_TAGS: "v1",
      PLUGIN_DRY_RUN: "true",
      PLUGIN_REGISTRY_CA: caFile,
      PLUGIN_INSECURE: "true",
    },
  });
  assert.equal(result.code, 0, result.stderr);
  loaded.push(`${repo}:v1`);
  assert.match(
    result.stderr,
    new RegExp(
      `the docker driver builds inside the engine.*it needs PLUGIN_REGISTRY_CA's certificate as /etc/docker/certs\\.d/${host}/ca\\.crt, and ${host} in "insecure-registries"`,
    ),
  );
  assert.match(result.stderr, new RegExp(`warning: this machine's engine has no CA for ${host}`));
});

test("docker-container: buildx create accepts the merged buildkitd.toml and the CA; the failure is the builder's boot", async () => {
  const context = await sampleContext(join(work.path, "container"));
  const name = `bxs${unique()}`;
  const userConfig = join(work.path, "mine.toml");
  await writeFile(userConfig, '[registry."mirror.corp.invalid"]\n  mirrors = ["m2.corp.invalid"]\n');
  const result = await runCli([], {
    cwd: context,
    env: {
      PLUGIN_REPO: "reg.corp.invalid:5000/team/app",
      PLUGIN_BASE_IMAGE_REGISTRY: "mirror.corp.invalid",
      PLUGIN_DRY_RUN: "true",
      PLUGIN_BUILDER_DRIVER: "docker-container",
      PLUGIN_BUILDER_NAME: name,
      PLUGIN_BUILDER_DRIVER_OPTS: "image=buildx-step.invalid/buildkit:none",
      PLUGIN_BUILDER_CONFIG: userConfig,
      PLUGIN_REGISTRY_CA: caFile,
      PLUGIN_INSECURE: "true",
    },
  });
  assert.equal(result.code, 1, result.stderr);
  assert.match(
    result.stderr,
    /the builder's buildkitd\.toml \(PLUGIN_BUILDER_CONFIG's, extended\): \[registry\."reg\.corp\.invalid:5000"\] for PLUGIN_REGISTRY_CA/,
  );
  assert.match(
    result.stderr,
    /warning: PLUGIN_BUILDER_CONFIG configures the registry mirror\.corp\.invalid: its section is used as it is/,
  );
  // create read the file and the CA (a bad TOML or a missing CA fails there); the boot is what fails.
  assert.doesNotMatch(result.stderr, /docker buildx create failed/);
  assert.match(result.stderr, /error: bootstrapping builder .*buildkit:none/);
  assert.match(result.stderr, new RegExp(`removed builder ${name}`));
});

test("docker-container: a buildkitd.toml buildx cannot read fails at create, naming the command (control for the test above)", async () => {
  const context = await sampleContext(join(work.path, "bad-config"));
  const userConfig = join(work.path, "broken.toml");
  await writeFile(userConfig, "[registry.\n");
  const result = await runCli([], {
    cwd: context,
    env: {
      PLUGIN_DRY_RUN: "true",
      PLUGIN_BUILDER_DRIVER: "docker-container",
      PLUGIN_BUILDER_NAME: `bxs${unique()}`,
      PLUGIN_BUILDER_CONFIG: userConfig,
    },
  });
  assert.equal(result.code, 1, result.stderr);
  assert.match(result.stderr, /error: docker buildx create failed/);
});
