/**
 * `buildx-step config` as a user runs it: a real process with a settings file, environment variables and
 * flags, checked through its JSON output and exit code.
 */
import assert from "node:assert/strict";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { runCli } from "../helpers/cli.js";
import { tempDir } from "../helpers/tmp.js";

interface ConfigJson {
  settings: Record<string, { value: unknown; source: Record<string, string>; from: string }>;
  run: Record<string, { value: unknown; from: string }>;
  warnings: string[];
  skip?: string;
}

async function workdir(t: { after: (fn: () => Promise<void>) => void }): Promise<string> {
  const dir = await tempDir("config-cli-");
  t.after(dir.remove);
  return dir.path;
}

const STAGE_INI = `# settings of every step of the stage
repo = 127.0.0.1:5000/team/app
tags = stage-tag
dry_run = true
cache_from = "type=registry,ref=127.0.0.1:5000/cache,mode=max;type=local,src=/tmp/cache"
platform = linux/amd64

[step "build"]
tar_path = out/image.tar
buildx_output_format = oci

[step "push"]
dry_run = false
push_only = true
source_tar_path = out/image.tar
`;

test("config --json: the value and the source of each setting from file, step section, env and flags", async (t) => {
  const cwd = await workdir(t);
  await writeFile(join(cwd, "stage.ini"), STAGE_INI);
  const result = await runCli(
    ["config", "--json", "--tag", "flag-1", "--tag", "flag,2-kept-whole-is-invalid"],
    {
      cwd,
      env: { PLUGIN_SETTINGS_FILE: "stage.ini", DRONE_STEP_NAME: "build" },
    },
  );
  // A repeatable flag keeps its value whole, so the comma makes it an invalid tag: exit 2, named.
  assert.equal(result.code, 2);
  assert.match(
    result.stderr,
    /PLUGIN_TAGS \(flag --tag\): "flag,2-kept-whole-is-invalid" is not a valid tag/,
  );
  assert.equal(JSON.parse(result.stdout).error.setting, "--tag", "the flag as it was typed");

  const ok = await runCli(
    ["config", "--json", "--tag", "flag-1", "--tag", "flag-2", "--platform", "linux/arm64"],
    {
      cwd,
      env: {
        PLUGIN_SETTINGS_FILE: "stage.ini",
        DRONE_STEP_NAME: "build",
        PLUGIN_NO_PUSH: "TRUE",
        PLUGIN_BUILD_ARGS_NEW: "A=1,2;B=3",
        PLUGIN_MULTIPLE_BUILD_ARGS: "true",
        PLUGIN_REGION: "eu-central-1",
        DRONE_COMMIT_REF: "refs/heads/main",
      },
    },
  );
  assert.equal(ok.code, 0, ok.stderr);
  const json = JSON.parse(ok.stdout) as ConfigJson;
  const ini = join(cwd, "stage.ini");
  const expected: Record<string, [unknown, string]> = {
    repo: ["127.0.0.1:5000/team/app", `file ${ini}`],
    dryRun: [true, "env PLUGIN_NO_PUSH"],
    tarPath: [join(cwd, "out/image.tar"), `file ${ini} [step "build"]`],
    outputFormat: ["oci", `file ${ini} [step "build"]`],
    cacheFrom: [
      ["type=registry,ref=127.0.0.1:5000/cache,mode=max", "type=local,src=/tmp/cache"],
      `file ${ini}`,
    ],
    tags: [["flag-1", "flag-2"], "flag --tag"],
    platforms: [["linux/arm64"], "flag --platform"],
    buildArgs: [["A=1,2", "B=3"], "env PLUGIN_BUILD_ARGS_NEW, as PLUGIN_MULTIPLE_BUILD_ARGS is true"],
    region: ["eu-central-1", "env PLUGIN_REGION"],
    dockerfile: ["Dockerfile", "default"],
    registry: ["https://index.docker.io/v1/", "default"],
    pushOnly: [false, "default"],
  };
  for (const [key, [value, from]] of Object.entries(expected)) {
    assert.deepEqual(json.settings[key]?.value, value, key);
    assert.equal(json.settings[key]?.from, from, key);
  }
  assert.deepEqual(json.run.stepName, {
    value: "build",
    source: { kind: "env", name: "DRONE_STEP_NAME" },
    from: "env DRONE_STEP_NAME",
  });
  assert.equal(json.run.commitRef?.value, "refs/heads/main");
  assert.deepEqual(json.warnings, []);
});

test("config: --step selects the step section; the push step's section makes it push-only", async (t) => {
  const cwd = await workdir(t);
  await writeFile(join(cwd, "stage.ini"), STAGE_INI);
  await mkdir(join(cwd, "out"));
  await writeFile(join(cwd, "out/image.tar"), "tarball");
  const result = await runCli(["--settings", "stage.ini", "--step", "push", "config", "--json"], { cwd });
  assert.equal(result.code, 0, result.stderr);
  const json = JSON.parse(result.stdout) as ConfigJson;
  assert.equal(json.settings.pushOnly?.value, true);
  assert.equal(json.settings.pushOnly?.from, `file ${join(cwd, "stage.ini")} [step "push"]`);
  assert.equal(json.settings.dryRun?.value, false);
  assert.equal(json.settings.sourceTarPath?.value, join(cwd, "out/image.tar"));
  assert.equal(json.run.stepName?.from, "flag --step");
});

test("config: the table names sources, masks secrets, and prints warnings for ignored settings", async (t) => {
  const cwd = await workdir(t);
  const secrets = {
    PLUGIN_PASSWORD: "hunter2-table",
    PLUGIN_SECRET_KEY: "aws-secret-table",
    DOCKER_PASSWORD: "fallback-pw",
  };
  const result = await runCli(["config"], {
    cwd,
    env: {
      PLUGIN_REPO: "127.0.0.1:5000/app",
      PLUGIN_DRY_RUN: "1",
      PLUGIN_MIRROR: "https://mirror.example",
      ...secrets,
    },
  });
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /^dryRun \(PLUGIN_DRY_RUN\)\s+true\s+env PLUGIN_DRY_RUN$/m);
  assert.match(result.stdout, /^password \(PLUGIN_PASSWORD\)\s+\*\*\*\s+env PLUGIN_PASSWORD$/m);
  assert.match(result.stdout, /^secretKey \(PLUGIN_SECRET_KEY\)\s+\*\*\*\s+env PLUGIN_SECRET_KEY$/m);
  assert.match(result.stdout, /PLUGIN_MIRROR is accepted for compatibility and ignored/);
  for (const value of Object.values(secrets)) {
    assert.ok(!result.stdout.includes(value) && !result.stderr.includes(value), `${value} was printed`);
  }
});

test("config: auto tag on a branch that is not the default reports the skip", async (t) => {
  const cwd = await workdir(t);
  const result = await runCli(["config", "--json"], {
    cwd,
    env: {
      PLUGIN_REPO: "127.0.0.1:5000/app",
      PLUGIN_AUTO_TAG: "true",
      DRONE_COMMIT_REF: "refs/heads/topic",
      DRONE_REPO_BRANCH: "main",
    },
  });
  assert.equal(result.code, 0, result.stderr);
  const json = JSON.parse(result.stdout) as ConfigJson;
  assert.match(json.skip ?? "", /skipping automated docker build for refs\/heads\/topic/);

  const tagged = await runCli(["config", "--json"], {
    cwd,
    env: { PLUGIN_REPO: "127.0.0.1:5000/app", PLUGIN_AUTO_TAG: "true", DRONE_COMMIT_REF: "refs/tags/v3.4.5" },
  });
  assert.deepEqual((JSON.parse(tagged.stdout) as ConfigJson).settings.tags?.value, ["3", "3.4", "3.4.5"]);
});

/** Each invalid combination: the environment, flags, and what the message must say. */
const INVALID: [string, NodeJS.ProcessEnv, string[], RegExp][] = [
  [
    "a source tarball that does not exist",
    { PLUGIN_PUSH_ONLY: "true", PLUGIN_SOURCE_TAR_PATH: "gone.tar" },
    [],
    /PLUGIN_SOURCE_TAR_PATH: .*gone\.tar does not exist/,
  ],
  [
    // A folder is read as an OCI layout; a device is neither a tarball nor a layout.
    "a source tarball that is neither a file nor a folder",
    { PLUGIN_PUSH_ONLY: "true", PLUGIN_SOURCE_TAR_PATH: "/dev/null" },
    [],
    /PLUGIN_SOURCE_TAR_PATH: \/dev\/null is neither a regular file nor a folder/,
  ],
  ["no repo where one is needed", { PLUGIN_REPO: "" }, [], /PLUGIN_REPO is not set/],
  [
    "a tag that is not a valid tag",
    {},
    ["--tag", "v1:2"],
    /PLUGIN_TAGS \(flag --tag\): "v1:2" is not a valid tag/,
  ],
  [
    "an output format other than docker/oci",
    { PLUGIN_BUILDX_OUTPUT_FORMAT: "zip" },
    [],
    /PLUGIN_BUILDX_OUTPUT_FORMAT is "zip"/,
  ],
  [
    "a tar path whose folder cannot be created",
    { PLUGIN_DRY_RUN: "true", PLUGIN_TAR_PATH: "a-file/image.tar" },
    [],
    /PLUGIN_TAR_PATH: .*a-file is a file, so the folder/,
  ],
  [
    "a boolean that is not one",
    { PLUGIN_DRY_RUN: "yes" },
    [],
    /PLUGIN_DRY_RUN is "yes", which is not a boolean/,
  ],
  [
    "a repo that is not a reference",
    { PLUGIN_REPO: "UPPER/case" },
    [],
    /PLUGIN_REPO "UPPER\/case" is not a valid repository name/,
  ],
];

for (const [name, env, flags, message] of INVALID) {
  test(`config exits 2 for ${name}`, async (t) => {
    const cwd = await workdir(t);
    await writeFile(join(cwd, "a-file"), "x");
    const result = await runCli(["config", "--json", ...flags], {
      cwd,
      env: { PLUGIN_REPO: "127.0.0.1:5000/app", ...env },
    });
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stderr, message);
    // --json: no settings on stdout, only the failure as one JSON object, with the same message.
    const { error } = JSON.parse(result.stdout);
    assert.equal(error.exitCode, 2);
    assert.match(error.message, message);
    assert.doesNotMatch(result.stderr, /\n\s+at /, "no stack trace for bad input");
  });
}
