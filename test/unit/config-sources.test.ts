import assert from "node:assert/strict";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import type { FlagValue } from "../../lib/config/layers.js";
import { type ResolveInput, resolveSettings } from "../../lib/config/resolve.js";
import type { ResolvedSettings, SettingSource, Settings } from "../../lib/config/settings.js";
import { UsageError } from "../../lib/errors.js";
import { tempDir } from "../helpers/tmp.js";

const REPO = "registry.example.com/team/app";

/** A fresh working folder (no stray `.tags`), removed after the test. */
async function workdir(t: { after: (fn: () => Promise<void>) => void }): Promise<string> {
  const dir = await tempDir("config-sources-");
  t.after(dir.remove);
  return dir.path;
}

function resolveIn(
  cwd: string,
  env: NodeJS.ProcessEnv,
  flags: FlagValue[] = [],
  extra: Partial<ResolveInput> = {},
): Promise<ResolvedSettings> {
  return resolveSettings({ env: { PLUGIN_REPO: REPO, ...env }, flags, cwd, ...extra });
}

const env = (name: string): SettingSource => ({ kind: "env", name });
const flag = (name: string): SettingSource => ({ kind: "flag", name });

test("defaults are the plugin's, each with source default", async (t) => {
  const cwd = await workdir(t);
  const { settings, sources } = await resolveIn(cwd, {});
  const expected: Partial<Settings> = {
    dryRun: false,
    pushOnly: false,
    outputFormat: "docker",
    load: false,
    pushVia: "registry",
    tags: ["latest"],
    autoTag: false,
    registry: "https://index.docker.io/v1/",
    insecure: false,
    dockerfile: "Dockerfile",
    context: ".",
    buildArgs: [],
    autoLabel: true,
    pullImage: true,
    noCache: false,
    platforms: [],
    cacheFrom: [],
    region: "us-east-1",
    createRepository: false,
    scanOnPush: false,
  };
  for (const [key, value] of Object.entries(expected) as [keyof Settings, unknown][]) {
    assert.deepEqual(settings[key], value, key);
    assert.deepEqual(sources[key], { kind: "default" }, key);
  }
  assert.equal(settings.tarPath, undefined);
  assert.equal(settings.password, undefined);
});

test("every variable and alias sets its setting, and is named as the source", async (t) => {
  const cwd = await workdir(t);
  const cases: [string, string, keyof Settings, unknown][] = [
    ["PLUGIN_DRY_RUN", "true", "dryRun", true],
    ["PLUGIN_NO_PUSH", "true", "dryRun", true],
    ["PLUGIN_TAR_PATH", "image.tar", "tarPath", join(cwd, "image.tar")],
    ["PLUGIN_DESTINATION_TAR_PATH", "out/image.tar", "tarPath", join(cwd, "out/image.tar")],
    ["PLUGIN_TAG", "v1", "tags", ["v1"]],
    ["PLUGIN_TAGS", "a,b", "tags", ["a", "b"]],
    ["PLUGIN_REGISTRY", "ghcr.io", "registry", "ghcr.io"],
    ["DOCKER_REGISTRY", "quay.io", "registry", "quay.io"],
    ["PLUGIN_USERNAME", "u1", "username", "u1"],
    ["DOCKER_USERNAME", "u2", "username", "u2"],
    ["PLUGIN_PASSWORD", "p1", "password", "p1"],
    ["DOCKER_PASSWORD", "p2", "password", "p2"],
    ["PLUGIN_EMAIL", "a@b.c", "email", "a@b.c"],
    ["DOCKER_EMAIL", "d@b.c", "email", "d@b.c"],
    ["PLUGIN_CONFIG", '{"auths":{}}', "config", '{"auths":{}}'],
    ["DOCKER_PLUGIN_CONFIG", '{"auths":{}}', "config", '{"auths":{}}'],
    ["PLUGIN_DOCKER_REGISTRY", "base.io", "baseImageRegistry", "base.io"],
    ["PLUGIN_BASE_IMAGE_REGISTRY", "base2.io", "baseImageRegistry", "base2.io"],
    ["PLUGIN_DOCKER_USERNAME", "bu", "baseImageUsername", "bu"],
    ["PLUGIN_BASE_IMAGE_USERNAME", "bu2", "baseImageUsername", "bu2"],
    ["PLUGIN_DOCKER_PASSWORD", "bp", "baseImagePassword", "bp"],
    ["PLUGIN_BASE_IMAGE_PASSWORD", "bp2", "baseImagePassword", "bp2"],
    ["PLUGIN_AUTO_TAG_SUFFIX", "arm", "autoTagSuffix", "arm"],
    ["PLUGIN_DEFAULT_SUFFIX", "amd", "autoTagSuffix", "amd"],
    ["PLUGIN_REPO_LINK", "https://git.example/r", "repoLink", "https://git.example/r"],
    ["DRONE_REPO_LINK", "https://drone.example/r", "repoLink", "https://drone.example/r"],
    ["PLUGIN_BUILDX_OUTPUT_FORMAT", "OCI", "outputFormat", "oci"],
    ["PLUGIN_BUILDX_LOAD", "t", "load", true],
    ["PLUGIN_PUSH_VIA", "daemon", "pushVia", "daemon"],
    ["PLUGIN_EXPECTED_DIGEST", `sha256:${"a".repeat(64)}`, "expectedDigest", `sha256:${"a".repeat(64)}`],
    ["PLUGIN_DOCKERFILE", "docker/Dockerfile", "dockerfile", "docker/Dockerfile"],
    ["PLUGIN_CONTEXT", "app", "context", "app"],
    ["PLUGIN_TARGET", "prod", "target", "prod"],
    ["PLUGIN_BUILD_ARGS_FROM_ENV", "HTTP_PROXY,FOO", "buildArgsFromEnv", ["HTTP_PROXY", "FOO"]],
    ["PLUGIN_SECRET", "id=x,src=/y", "secret", "id=x,src=/y"],
    ["PLUGIN_SECRETS_FROM_ENV", "a=A,b=B", "secretsFromEnv", ["a=A", "b=B"]],
    ["PLUGIN_SECRETS_FROM_FILE", "a=/f", "secretsFromFile", ["a=/f"]],
    ["PLUGIN_CUSTOM_LABELS", "k=v,l=w", "labels", ["k=v", "l=w"]],
    ["PLUGIN_LABEL_SCHEMA", "vendor=me", "labelSchema", ["vendor=me"]],
    ["PLUGIN_AUTO_LABEL", "false", "autoLabel", false],
    ["PLUGIN_ADD_HOST", "a:1.2.3.4,b:5.6.7.8", "addHost", ["a:1.2.3.4", "b:5.6.7.8"]],
    ["PLUGIN_NO_CACHE", "1", "noCache", true],
    ["PLUGIN_PULL_IMAGE", "0", "pullImage", false],
    ["PLUGIN_QUIET", "TRUE", "quiet", true],
    ["PLUGIN_PLATFORM", "linux/amd64,linux/arm64", "platforms", ["linux/amd64", "linux/arm64"]],
    [
      "PLUGIN_CACHE_FROM",
      "type=registry,ref=a;type=local,src=b",
      "cacheFrom",
      ["type=registry,ref=a", "type=local,src=b"],
    ],
    ["PLUGIN_CACHE_TO", "type=inline", "cacheTo", ["type=inline"]],
    ["PLUGIN_SSH_AGENT_KEY", "-----BEGIN KEY-----", "sshAgentKey", "-----BEGIN KEY-----"],
    ["PLUGIN_BUILDER_NAME", "b1", "builderName", "b1"],
    ["PLUGIN_BUILDER_DRIVER", "docker-container", "builderDriver", "docker-container"],
    [
      "PLUGIN_BUILDER_DRIVER_OPTS",
      "image=moby/buildkit,network=host",
      "builderDriverOpts",
      ["image=moby/buildkit,network=host"],
    ],
    ["PLUGIN_BUILDER_DRIVER_OPTS_NEW", "a=1;b=2", "builderDriverOptsNew", ["a=1", "b=2"]],
    ["PLUGIN_BUILDER_REMOTE_CONN", "tcp://buildkit:1234", "builderRemoteConn", "tcp://buildkit:1234"],
    ["PLUGIN_METADATA_FILE", "meta.json", "metadataFile", join(cwd, "meta.json")],
    ["PLUGIN_ARTIFACT_FILE", "/tmp/a.json", "artifactFile", "/tmp/a.json"],
    ["DRONE_OUTPUT", "out.env", "outputFile", join(cwd, "out.env")],
    ["PLUGIN_REGISTRY_TYPE", "ECR", "registryType", "ECR"],
    ["PLUGIN_INSECURE", "true", "insecure", true],
    ["PLUGIN_REGION", "eu-west-1", "region", "eu-west-1"],
    ["ECR_REGION", "eu-west-2", "region", "eu-west-2"],
    ["AWS_REGION", "eu-west-3", "region", "eu-west-3"],
    ["PLUGIN_ACCESS_KEY", "AKIA1", "accessKey", "AKIA1"],
    ["ECR_ACCESS_KEY", "AKIA2", "accessKey", "AKIA2"],
    ["AWS_ACCESS_KEY_ID", "AKIA3", "accessKey", "AKIA3"],
    ["PLUGIN_SECRET_KEY", "s1", "secretKey", "s1"],
    ["ECR_SECRET_KEY", "s2", "secretKey", "s2"],
    ["AWS_SECRET_ACCESS_KEY", "s3", "secretKey", "s3"],
    ["PLUGIN_ASSUME_ROLE", "arn:aws:iam::1:role/r", "assumeRole", "arn:aws:iam::1:role/r"],
    ["PLUGIN_EXTERNAL_ID", "ext", "externalId", "ext"],
    ["PLUGIN_OIDC_TOKEN_ID", "eyJ.token", "oidcTokenId", "eyJ.token"],
    ["PLUGIN_AWS_PROFILE", "ci", "awsProfile", "ci"],
    ["PLUGIN_CREATE_REPOSITORY", "true", "createRepository", true],
    ["ECR_CREATE_REPOSITORY", "true", "createRepository", true],
    ["PLUGIN_SCAN_ON_PUSH", "true", "scanOnPush", true],
    ["BUILDX_STEP_DEBUG", "1", "debug", true],
  ];
  for (const [name, value, key, expected] of cases) {
    const { settings, sources } = await resolveIn(cwd, { [name]: value });
    assert.deepEqual(settings[key], expected, name);
    assert.deepEqual(sources[key], env(name), name);
  }
});

test("aliases: the first variable set wins, in the plugin's order", async (t) => {
  const cwd = await workdir(t);
  const cases: [NodeJS.ProcessEnv, keyof Settings, unknown, string][] = [
    [{ PLUGIN_DRY_RUN: "false", PLUGIN_NO_PUSH: "true" }, "dryRun", false, "PLUGIN_DRY_RUN"],
    [
      { PLUGIN_TAR_PATH: "a.tar", PLUGIN_DESTINATION_TAR_PATH: "b.tar" },
      "tarPath",
      join(cwd, "a.tar"),
      "PLUGIN_TAR_PATH",
    ],
    [{ PLUGIN_TAG: "one", PLUGIN_TAGS: "two" }, "tags", ["one"], "PLUGIN_TAG"],
    [{ PLUGIN_USERNAME: "plugin", DOCKER_USERNAME: "docker" }, "username", "plugin", "PLUGIN_USERNAME"],
    [{ PLUGIN_PASSWORD: "plugin", DOCKER_PASSWORD: "docker" }, "password", "plugin", "PLUGIN_PASSWORD"],
    [{ PLUGIN_REGISTRY: "a.io", DOCKER_REGISTRY: "b.io" }, "registry", "a.io", "PLUGIN_REGISTRY"],
    [{ ECR_REGION: "eu-west-2", AWS_REGION: "eu-west-3" }, "region", "eu-west-2", "ECR_REGION"],
    // An empty variable is unset: it hides neither a fall-back nor a default.
    [{ PLUGIN_USERNAME: "", DOCKER_USERNAME: "docker" }, "username", "docker", "DOCKER_USERNAME"],
  ];
  for (const [vars, key, expected, source] of cases) {
    const { settings, sources } = await resolveIn(cwd, vars);
    assert.deepEqual(settings[key], expected, source);
    assert.deepEqual(sources[key], env(source), source);
  }
  const { settings, sources } = await resolveIn(cwd, { PLUGIN_TAGS: "" });
  assert.deepEqual(settings.tags, ["latest"]);
  assert.deepEqual(sources.tags, { kind: "default" });
});

test("build args: comma list, JSON map; the ; list of PLUGIN_BUILD_ARGS_NEW only under PLUGIN_MULTIPLE_BUILD_ARGS", async (t) => {
  const cwd = await workdir(t);
  // As drone-buildx: args-new is read only when the switch is on; without it, it is not used (and said so).
  const both = await resolveIn(cwd, { PLUGIN_BUILD_ARGS: "A=1,B=2", PLUGIN_BUILD_ARGS_NEW: "C=x,y;D=z" });
  assert.deepEqual(both.settings.buildArgs, ["A=1", "B=2"]);
  assert.deepEqual(both.sources.buildArgs, env("PLUGIN_BUILD_ARGS"));
  assert.ok(
    both.warnings.some((w) =>
      /PLUGIN_BUILD_ARGS_NEW is not used because PLUGIN_MULTIPLE_BUILD_ARGS is not true/.test(w),
    ),
    both.warnings.join("\n"),
  );

  const map = await resolveIn(cwd, { PLUGIN_BUILD_ARGS: '{"GREETING":"hello, world","N":1}' });
  assert.deepEqual(map.settings.buildArgs, ["GREETING=hello, world", "N=1"]);

  const list = await resolveIn(cwd, { PLUGIN_BUILD_ARGS: '["A=1,2","B=3"]' });
  assert.deepEqual(list.settings.buildArgs, ["A=1,2", "B=3"]);

  // PLUGIN_MULTIPLE_BUILD_ARGS=true: the plugin uses only the ; list, and says so.
  const multiple = await resolveIn(cwd, {
    PLUGIN_BUILD_ARGS: "A=1",
    PLUGIN_BUILD_ARGS_NEW: "B=2,3",
    PLUGIN_MULTIPLE_BUILD_ARGS: "true",
  });
  assert.deepEqual(multiple.settings.buildArgs, ["B=2,3"]);
  assert.equal(multiple.sources.buildArgs?.kind, "env");
  assert.match(multiple.sources.buildArgs?.note ?? "", /^as PLUGIN_MULTIPLE_BUILD_ARGS is true$/);
  assert.ok(
    multiple.warnings.some((w) => /PLUGIN_BUILD_ARGS is not used.*PLUGIN_MULTIPLE_BUILD_ARGS/.test(w)),
  );
});

test("buildx options: comma list and ; list", async (t) => {
  const cwd = await workdir(t);
  const comma = await resolveIn(cwd, { PLUGIN_BUILDX_OPTIONS: "--ssh=default,--provenance=false" });
  assert.deepEqual(comma.settings.buildxOptions, ["--ssh=default", "--provenance=false"]);
  const semicolon = await resolveIn(cwd, {
    PLUGIN_BUILDX_OPTIONS_SEMICOLON: "--output=type=local,dest=out;--ssh=default",
  });
  assert.deepEqual(semicolon.settings.buildxOptions, ["--output=type=local,dest=out", "--ssh=default"]);
  assert.deepEqual(semicolon.sources.buildxOptions, env("PLUGIN_BUILDX_OPTIONS_SEMICOLON"));
});

test("a JSON list keeps commas whole (the Drone runner sends settings written as JSON that way)", async (t) => {
  const cwd = await workdir(t);
  const { settings } = await resolveIn(cwd, {
    PLUGIN_TAGS: '["a","b"]',
    PLUGIN_CACHE_FROM: '["type=registry,ref=x","type=local,src=y"]',
  });
  assert.deepEqual(settings.tags, ["a", "b"]);
  assert.deepEqual(settings.cacheFrom, ["type=registry,ref=x", "type=local,src=y"]);
});

test("a boolean that is not one is an error naming the variable and the value", async (t) => {
  const cwd = await workdir(t);
  await assert.rejects(
    resolveIn(cwd, { PLUGIN_NO_PUSH: "yes" }),
    (error: unknown) => error instanceof UsageError && /PLUGIN_NO_PUSH is "yes"/.test(error.message),
  );
  await assert.rejects(
    resolveIn(cwd, { PLUGIN_PULL_IMAGE: "maybe" }),
    (error: unknown) => error instanceof UsageError && /PLUGIN_PULL_IMAGE is "maybe"/.test(error.message),
  );
});

test("flags: repeatable values are kept whole, a single list value is split, switches are true", async (t) => {
  const cwd = await workdir(t);
  const { settings, sources } = await resolveIn(cwd, { PLUGIN_TAGS: "env" }, [
    { setting: "tags", flag: "--tag", value: ["a", "b"] },
    { setting: "buildArgs", flag: "--build-arg", value: ["A=1,2"] },
    { setting: "platforms", flag: "--platform", value: "linux/amd64,linux/arm64" },
    { setting: "dryRun", flag: "--no-push", value: true },
    { setting: "context", flag: "[context]", value: "ctx" },
  ]);
  assert.deepEqual(settings.tags, ["a", "b"]);
  assert.deepEqual(sources.tags, flag("--tag"));
  assert.deepEqual(settings.buildArgs, ["A=1,2"]);
  assert.deepEqual(settings.platforms, ["linux/amd64", "linux/arm64"]);
  assert.equal(settings.dryRun, true);
  assert.deepEqual(sources.dryRun, flag("--no-push"));
  assert.equal(settings.context, "ctx");
  assert.deepEqual(sources.context, flag("[context]"));
});

test("PLUGIN_ENV_FILE is loaded first and never overrides a variable that is set", async (t) => {
  const cwd = await workdir(t);
  await writeFile(join(cwd, "vars.env"), "PLUGIN_TAGS=from-file\nPLUGIN_TARGET=file-target\n");
  const { settings, sources } = await resolveIn(cwd, {
    PLUGIN_ENV_FILE: "vars.env",
    PLUGIN_TARGET: "env-target",
  });
  assert.deepEqual(settings.tags, ["from-file"]);
  assert.deepEqual(sources.tags, env("PLUGIN_TAGS"));
  assert.equal(settings.target, "env-target");
  await assert.rejects(
    resolveIn(cwd, { PLUGIN_ENV_FILE: "missing.env" }),
    (error: unknown) =>
      error instanceof UsageError && /PLUGIN_ENV_FILE missing\.env.*no such file/.test(error.message),
  );
});

test(".tags: used when no tag variable is set; the variables win; it wins over the settings file", async (t) => {
  const cwd = await workdir(t);
  await writeFile(join(cwd, ".tags"), "1.0, 1.0.3,latest\n");
  await writeFile(join(cwd, "stage.ini"), "tags = from-ini\n");
  const fromFile = await resolveIn(cwd, {});
  assert.deepEqual(fromFile.settings.tags, ["1.0", "1.0.3", "latest"]);
  assert.deepEqual(fromFile.sources.tags, { kind: "file", path: join(cwd, ".tags"), section: "" });
  const fromEnv = await resolveIn(cwd, { PLUGIN_TAGS: "env" });
  assert.deepEqual(fromEnv.settings.tags, ["env"]);
  const overIni = await resolveIn(cwd, { PLUGIN_SETTINGS_FILE: "stage.ini" });
  assert.deepEqual(overIni.settings.tags, ["1.0", "1.0.3", "latest"]);
});

const STAGE_INI = `; the whole stage
dry_run = true
tags = a,b
tar_path = out/stage.tar
cache_from[] = type=registry,ref=r/cache,mode=max
cache_from[] = type=local,src=/c

[step "build"]
tar_path = out/build.tar
buildx_output_format = oci

[step "build.v2"]
target = v2

[step "push"]
dry_run = false
push_only = true
`;

test("settings file: the top section applies to every step, a step section only to its step", async (t) => {
  const cwd = await workdir(t);
  const path = join(cwd, "stage.ini");
  await writeFile(path, STAGE_INI);
  const top = { kind: "file", path, section: "" };
  const build = { kind: "file", path, section: 'step "build"' };

  const other = await resolveIn(cwd, { PLUGIN_SETTINGS_FILE: "stage.ini", DRONE_STEP_NAME: "lint" });
  assert.equal(other.settings.dryRun, true);
  assert.deepEqual(other.sources.dryRun, top);
  assert.deepEqual(other.settings.tags, ["a", "b"]);
  assert.equal(other.settings.tarPath, join(cwd, "out/stage.tar"));
  assert.deepEqual(other.settings.cacheFrom, ["type=registry,ref=r/cache,mode=max", "type=local,src=/c"]);
  assert.equal(other.settings.outputFormat, "docker");

  for (const stepInput of [
    { env: { DRONE_STEP_NAME: "build" } },
    { env: { HARNESS_STEP_ID: "build" } },
    { env: { DRONE_STEP_NAME: "lint" }, step: "build" },
  ]) {
    const { settings, sources } = await resolveIn(
      cwd,
      { PLUGIN_SETTINGS_FILE: "stage.ini", ...stepInput.env },
      [],
      stepInput.step ? { step: stepInput.step } : {},
    );
    assert.equal(settings.tarPath, join(cwd, "out/build.tar"), JSON.stringify(stepInput));
    assert.deepEqual(sources.tarPath, build);
    assert.equal(settings.outputFormat, "oci");
    assert.equal(settings.dryRun, true);
    assert.deepEqual(sources.dryRun, top);
    assert.equal(settings.run.stepName, "build");
  }

  const dotted = await resolveIn(cwd, { PLUGIN_SETTINGS_FILE: path, DRONE_STEP_NAME: "build.v2" });
  assert.equal(dotted.settings.target, "v2");
  assert.deepEqual(dotted.sources.target, { kind: "file", path, section: 'step "build.v2"' });
});

test("settings file: --settings wins over PLUGIN_SETTINGS_FILE; a missing file is an error", async (t) => {
  const cwd = await workdir(t);
  await writeFile(join(cwd, "a.ini"), "target = a\n");
  await writeFile(join(cwd, "b.ini"), "target = b\n");
  const { settings } = await resolveIn(cwd, { PLUGIN_SETTINGS_FILE: "a.ini" }, [], { settingsFile: "b.ini" });
  assert.equal(settings.target, "b");
  await assert.rejects(
    resolveIn(cwd, { PLUGIN_SETTINGS_FILE: "nope.ini" }),
    (error: unknown) =>
      error instanceof UsageError &&
      error.message.includes("nope.ini") &&
      /PLUGIN_SETTINGS_FILE/.test(error.message),
  );
});

test("settings file: unknown keys, stray sections and cut-off ; values are refused", async (t) => {
  const cwd = await workdir(t);
  const cases: [string, RegExp][] = [
    ["drty_run = true\n", /drty_run in .*is not a setting/],
    ['[step "x"]\nnot_a_setting = 1\n', /not_a_setting in .*\[step "x"\] is not a setting/],
    ["[stage]\ndry_run = true\n", /section \[stage\]/],
    ["cache_from = type=registry,ref=a;type=local,src=b\n", /cache_from contains ";".*quote the value/],
    ["env_file = x.env\n", /only be set in the environment/],
    ["dry_run = maybe\n", /dry_run in .* is "maybe", which is not a boolean/],
    ["tags = a\ntarget[] = x\n", /target in .* is given as a list/],
  ];
  for (const [text, pattern] of cases) {
    await writeFile(join(cwd, "bad.ini"), text);
    await assert.rejects(
      resolveIn(cwd, { PLUGIN_SETTINGS_FILE: "bad.ini" }),
      (error: unknown) => error instanceof UsageError && pattern.test(error.message),
      text,
    );
  }
  await writeFile(join(cwd, "quoted.ini"), 'cache_from = "type=registry,ref=a;type=local,src=b"\n');
  const { settings } = await resolveIn(cwd, { PLUGIN_SETTINGS_FILE: "quoted.ini" });
  assert.deepEqual(settings.cacheFrom, ["type=registry,ref=a", "type=local,src=b"]);
});

test("precedence: default < settings file < step section < environment < flag", async (t) => {
  const cwd = await workdir(t);
  const path = join(cwd, "stage.ini");
  await writeFile(path, 'target = stage\nplatform = linux/amd64\n[step "s"]\ntarget = step\n');
  const layers: [NodeJS.ProcessEnv, FlagValue[], string | undefined, SettingSource][] = [
    [{}, [], undefined, { kind: "default" }],
    [{ PLUGIN_SETTINGS_FILE: path }, [], "stage", { kind: "file", path, section: "" }],
    [
      { PLUGIN_SETTINGS_FILE: path, DRONE_STEP_NAME: "s" },
      [],
      "step",
      { kind: "file", path, section: 'step "s"' },
    ],
    [
      { PLUGIN_SETTINGS_FILE: path, DRONE_STEP_NAME: "s", PLUGIN_TARGET: "env" },
      [],
      "env",
      env("PLUGIN_TARGET"),
    ],
    [
      { PLUGIN_SETTINGS_FILE: path, DRONE_STEP_NAME: "s", PLUGIN_TARGET: "env" },
      [{ setting: "target", flag: "--target", value: "flag" }],
      "flag",
      flag("--target"),
    ],
  ];
  for (const [vars, flags, expected, source] of layers) {
    const { settings, sources } = await resolveIn(cwd, vars, flags);
    assert.equal(settings.target, expected);
    if (expected !== undefined) assert.deepEqual(sources.target, source);
  }

  // The same for a boolean across all four sources, switching it each time.
  await writeFile(path, "no_push = true\n");
  const dry = async (vars: NodeJS.ProcessEnv, flags: FlagValue[] = []) =>
    (await resolveIn(cwd, { PLUGIN_TAR_PATH: "x.tar", ...vars }, flags)).settings.dryRun;
  assert.equal(await dry({}), false);
  assert.equal(await dry({ PLUGIN_SETTINGS_FILE: path }), true);
  assert.equal(await dry({ PLUGIN_SETTINGS_FILE: path, PLUGIN_NO_PUSH: "false" }), false);
  assert.equal(
    await dry({ PLUGIN_SETTINGS_FILE: path, PLUGIN_NO_PUSH: "false" }, [
      { setting: "dryRun", flag: "--dry-run", value: true },
    ]),
    true,
  );
  // A file value of one setting does not hide a lower layer of another.
  const mixed = await resolveIn(cwd, { PLUGIN_SETTINGS_FILE: path, PLUGIN_PLATFORM: "linux/arm64" });
  assert.deepEqual(mixed.settings.platforms, ["linux/arm64"]);
  assert.deepEqual(mixed.sources.dryRun, { kind: "file", path, section: "" });
});

test("settings accepted but ignored say so in a warning, never silently", async (t) => {
  const cwd = await workdir(t);
  const warned = await resolveIn(cwd, {
    PLUGIN_MIRROR: "https://mirror.example",
    PLUGIN_STORAGE_DRIVER: "vfs",
    PLUGIN_MTU: "1400",
    PLUGIN_SQUASH: "true",
    PLUGIN_DAEMON_OFF: "false",
    PLUGIN_BUILDKIT_VERSION: "v0.12",
    DRONE_CARD_PATH: "/dev/stdout",
  });
  for (const name of [
    "PLUGIN_MIRROR",
    "PLUGIN_STORAGE_DRIVER",
    "PLUGIN_MTU",
    "PLUGIN_SQUASH",
    "PLUGIN_DAEMON_OFF",
    "PLUGIN_BUILDKIT_VERSION",
    "DRONE_CARD_PATH",
  ]) {
    assert.ok(
      warned.warnings.some((w) => w.startsWith(`${name} is accepted for compatibility and ignored`)),
      name,
    );
  }
  assert.ok(!warned.warnings.join("\n").includes("https://mirror.example"), "values are not repeated");
  // Values that ask for nothing this tool would do are quiet.
  const quiet = await resolveIn(cwd, {
    PLUGIN_SQUASH: "false",
    PLUGIN_DAEMON_OFF: "true",
    PLUGIN_PURGE: "false",
  });
  assert.deepEqual(quiet.warnings, []);

  await writeFile(join(cwd, "stage.ini"), "mirror = https://m.example\n");
  const fromFile = await resolveIn(cwd, { PLUGIN_SETTINGS_FILE: "stage.ini" });
  assert.ok(
    fromFile.warnings.some((w) =>
      /^mirror in .*stage\.ini is accepted for compatibility and ignored/.test(w),
    ),
  );
});

test("auto tag: tags from the git tag, latest on the default branch, skip elsewhere", async (t) => {
  const cwd = await workdir(t);
  const tagged = await resolveIn(cwd, { PLUGIN_AUTO_TAG: "true", DRONE_COMMIT_REF: "refs/tags/v1.2.3" });
  assert.deepEqual(tagged.settings.tags, ["1", "1.2", "1.2.3"]);
  assert.deepEqual(tagged.sources.tags, env("PLUGIN_AUTO_TAG"));
  assert.equal(tagged.skip, undefined);

  const suffixed = await resolveIn(cwd, {
    PLUGIN_DEFAULT_TAGS: "true",
    PLUGIN_AUTO_TAG_SUFFIX: "arm64",
    DRONE_COMMIT_REF: "refs/heads/main",
    DRONE_REPO_BRANCH: "main",
  });
  assert.deepEqual(suffixed.settings.tags, ["arm64"]);

  const skipped = await resolveIn(cwd, {
    PLUGIN_AUTO_TAG: "true",
    DRONE_COMMIT_REF: "refs/heads/feature",
    DRONE_REPO_BRANCH: "main",
  });
  assert.match(skipped.skip ?? "", /skipping automated docker build for refs\/heads\/feature/);

  const replaced = await resolveIn(cwd, {
    PLUGIN_AUTO_TAG: "true",
    PLUGIN_TAGS: "mine",
    DRONE_COMMIT_REF: "refs/tags/v2.0.0",
  });
  assert.deepEqual(replaced.settings.tags, ["2", "2.0", "2.0.0"]);
  assert.ok(replaced.warnings.some((w) => /PLUGIN_TAGS is replaced by the auto tags/.test(w)));
});

test("run context from DRONE_* and HARNESS_*, with sources", async (t) => {
  const cwd = await workdir(t);
  const { settings, runSources } = await resolveIn(cwd, {
    DRONE_COMMIT_SHA: "abc123",
    DRONE_COMMIT_REF: "refs/heads/main",
    DRONE_COMMIT_BRANCH: "main",
    DRONE_TAG: "v1",
    DRONE_BUILD_NUMBER: "42",
    DRONE_BUILD_CREATED: "1700000000",
    DRONE_REPO_LINK: "https://git.example/o/r",
    DRONE_REPO_BRANCH: "main",
    DRONE_REMOTE_URL: "https://git.example/o/r.git",
    HARNESS_STEP_ID: "build_and_push",
  });
  assert.deepEqual(settings.run, {
    commitSha: "abc123",
    commitRef: "refs/heads/main",
    commitBranch: "main",
    commitTag: "v1",
    buildNumber: "42",
    buildCreated: "1700000000",
    repoLink: "https://git.example/o/r",
    repoBranch: "main",
    remoteUrl: "https://git.example/o/r.git",
    stepName: "build_and_push",
  });
  assert.deepEqual(runSources?.stepName, env("HARNESS_STEP_ID"));
  assert.deepEqual(runSources?.commitSha, env("DRONE_COMMIT_SHA"));
  // DRONE_REPO_LINK is also the plugin's fall-back for PLUGIN_REPO_LINK.
  assert.equal(settings.repoLink, "https://git.example/o/r");
});

test("relative paths are made absolute against the working folder", async (t) => {
  const cwd = await workdir(t);
  await mkdir(join(cwd, "sub"));
  const { settings } = await resolveIn(join(cwd, "sub"), {
    PLUGIN_NO_PUSH: "true",
    PLUGIN_TAR_PATH: "../image.tar",
    PLUGIN_METADATA_FILE: "meta.json",
  });
  assert.equal(settings.tarPath, join(cwd, "image.tar"));
  assert.equal(settings.metadataFile, join(cwd, "sub", "meta.json"));
  assert.equal(settings.dockerfile, "Dockerfile", "dockerfile stays relative to the context, as given");
});
