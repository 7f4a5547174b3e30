// Golden argument lists: `docker buildx build` for a table of settings (every build setting at least
// once) and for each mode's output; builder create/bootstrap/remove for each driver.
import assert from "node:assert/strict";
import { test } from "node:test";
import { type BuildPlan, buildxBuildArgs } from "../../lib/buildx/build-args.js";
import { builderName } from "../../lib/buildx/builder.js";
import {
  builderBootstrapArgs,
  builderCreateArgs,
  builderRemoveArgs,
  createdDriver,
} from "../../lib/buildx/builder-args.js";
import { csvFields } from "../../lib/buildx/csv.js";
import { secretArgs } from "../../lib/config/build-secrets.js";
import type { Settings } from "../../lib/config/settings.js";
import { UsageError } from "../../lib/errors.js";
import { testSettings } from "../helpers/settings.js";

const META = "/tmp/w/metadata.json";
const CREATED = "2026-01-02T03:04:05Z";

function plan(overrides: Partial<BuildPlan> = {}): BuildPlan {
  return {
    output: { kind: "push" },
    dockerfile: "Dockerfile",
    context: ".",
    imageRefs: ["reg.example/app:latest"],
    metadataFile: META,
    progress: "plain",
    created: CREATED,
    ...overrides,
  };
}

const created = ["--label", `org.opencontainers.image.created=${CREATED}`];

interface Row {
  name: string;
  settings: Partial<Settings>;
  plan?: Partial<BuildPlan>;
  args: string[];
}

const table: Row[] = [
  {
    name: "defaults: push, pull, auto label created",
    settings: {},
    args: [
      "buildx",
      "build",
      "--progress",
      "plain",
      "--file",
      "Dockerfile",
      "--tag",
      "reg.example/app:latest",
      ...created,
      "--pull",
      "--push",
      "--metadata-file",
      META,
      ".",
    ],
  },
  {
    name: "every build input",
    settings: {
      target: "release",
      buildArgs: ["A=1", "B=x,y"],
      secret: "id=raw,src=/run/raw",
      secretsFromEnv: ["npm=NPM_TOKEN"],
      secretsFromFile: ["cert=/etc/cert.pem"],
      labels: ["team=core", "tier=web"],
      labelSchema: ["vendor=Acme", "title=app"],
      run: {
        commitSha: "abc123",
        remoteUrl: "https://git.example/app.git",
        repoLink: "https://git.example/app",
      },
      addHost: ["db:10.0.0.5", "cache:10.0.0.6"],
      noCache: true,
      pullImage: false,
      platforms: ["linux/amd64", "linux/arm64"],
      cacheFrom: ["type=registry,ref=reg.example/app:cache"],
      cacheTo: ["type=registry,ref=reg.example/app:cache,mode=max"],
      buildxOptions: ["--provenance=false", "--sbom=true"],
    },
    plan: {
      dockerfile: "docker/Dockerfile.release",
      context: "src",
      imageRefs: ["reg.example/app:1.0", "reg.example/app:latest"],
      builder: "buildx-step-1234",
      sshKeyFile: "/tmp/w/ssh-key",
      envBuildArgs: ["HTTP_PROXY", "GIT_SHA"],
    },
    args: [
      "buildx",
      "build",
      "--progress",
      "plain",
      "--builder",
      "buildx-step-1234",
      "--file",
      "docker/Dockerfile.release",
      "--tag",
      "reg.example/app:1.0",
      "--tag",
      "reg.example/app:latest",
      "--platform",
      "linux/amd64,linux/arm64",
      "--target",
      "release",
      "--build-arg",
      "A=1",
      "--build-arg",
      "B=x,y",
      "--build-arg",
      "HTTP_PROXY",
      "--build-arg",
      "GIT_SHA",
      "--secret",
      "id=raw,src=/run/raw",
      "--secret",
      "id=npm,env=NPM_TOKEN",
      "--secret",
      "id=cert,src=/etc/cert.pem",
      "--ssh",
      "default=/tmp/w/ssh-key",
      ...created,
      "--label",
      "org.opencontainers.image.revision=abc123",
      "--label",
      "org.opencontainers.image.source=https://git.example/app.git",
      "--label",
      "org.opencontainers.image.url=https://git.example/app",
      "--label",
      "org.opencontainers.image.vendor=Acme",
      "--label",
      "org.opencontainers.image.title=app",
      "--label",
      "team=core",
      "--label",
      "tier=web",
      "--add-host",
      "db:10.0.0.5",
      "--add-host",
      "cache:10.0.0.6",
      "--cache-from",
      "type=registry,ref=reg.example/app:cache",
      "--cache-to",
      "type=registry,ref=reg.example/app:cache,mode=max",
      "--no-cache",
      "--push",
      "--metadata-file",
      META,
      "--provenance=false",
      "--sbom=true",
      "src",
    ],
  },
  {
    name: "PLUGIN_REPO_LINK wins over the run's link",
    settings: {
      repoLink: "https://mirror.example/app",
      run: { repoLink: "https://git.example/app" },
      pullImage: false,
    },
    args: [
      "buildx",
      "build",
      "--progress",
      "plain",
      "--file",
      "Dockerfile",
      "--tag",
      "reg.example/app:latest",
      ...created,
      "--label",
      "org.opencontainers.image.url=https://mirror.example/app",
      "--push",
      "--metadata-file",
      META,
      ".",
    ],
  },
  {
    name: "no auto label: neither the OCI labels nor the label schema",
    settings: { autoLabel: false, labelSchema: ["vendor=Acme"], labels: ["a=b"], pullImage: false },
    args: [
      "buildx",
      "build",
      "--progress",
      "plain",
      "--file",
      "Dockerfile",
      "--tag",
      "reg.example/app:latest",
      "--label",
      "a=b",
      "--push",
      "--metadata-file",
      META,
      ".",
    ],
  },
  {
    name: "quiet: buildx's --quiet and no --progress (buildx refuses both)",
    settings: { quiet: true, pullImage: false, autoLabel: false },
    args: [
      "buildx",
      "build",
      "--file",
      "Dockerfile",
      "--tag",
      "reg.example/app:latest",
      "--quiet",
      "--push",
      "--metadata-file",
      META,
      ".",
    ],
  },
  {
    name: "a --progress in the extra options replaces ours",
    settings: { buildxOptions: ["--progress=rawjson"], pullImage: false, autoLabel: false },
    plan: { progress: "auto" },
    args: [
      "buildx",
      "build",
      "--file",
      "Dockerfile",
      "--tag",
      "reg.example/app:latest",
      "--push",
      "--metadata-file",
      META,
      "--progress=rawjson",
      ".",
    ],
  },
  {
    name: "tty progress when a person watches",
    settings: { pullImage: false, autoLabel: false },
    plan: { progress: "auto" },
    args: [
      "buildx",
      "build",
      "--progress",
      "auto",
      "--file",
      "Dockerfile",
      "--tag",
      "reg.example/app:latest",
      "--push",
      "--metadata-file",
      META,
      ".",
    ],
  },
];

for (const row of table) {
  test(`buildx build argv: ${row.name}`, () => {
    assert.deepEqual(buildxBuildArgs(testSettings(row.settings), plan(row.plan)), row.args);
  });
}

const modeBase = testSettings({ pullImage: false, autoLabel: false, dryRun: true });
const modeTail = (output: string[]) => [...output, "--metadata-file", META, "."];
const modeHead = [
  "buildx",
  "build",
  "--progress",
  "plain",
  "--file",
  "Dockerfile",
  "--tag",
  "reg.example/app:latest",
];

test("buildx build argv for each mode's output", () => {
  const cases: [BuildPlan["output"], string[]][] = [
    [{ kind: "push" }, ["--push"]],
    [
      { kind: "tar", format: "docker", dest: "/out/.img.tar.x.partial" },
      ["--output", "type=docker,dest=/out/.img.tar.x.partial"],
    ],
    [
      { kind: "tar", format: "oci", dest: "/out/.img.tar.x.partial" },
      ["--output", "type=oci,dest=/out/.img.tar.x.partial"],
    ],
    [{ kind: "load" }, ["--load"]],
    [{ kind: "cacheOnly" }, ["--output", "type=cacheonly"]],
  ];
  for (const [output, expected] of cases) {
    assert.deepEqual(
      buildxBuildArgs(modeBase, plan({ output })),
      [...modeHead, ...modeTail(expected)],
      output.kind,
    );
  }
});

test("a tarball path with commas or quotes stays one dest: it cannot add output attributes (a dry run that pushes)", () => {
  const dest = '/ws/img.tar,type=image,name=evil.example/app,push=true,x="1"/.z.tar.x.partial';
  const args = buildxBuildArgs(modeBase, plan({ output: { kind: "tar", format: "docker", dest } }));
  const output = args[args.indexOf("--output") + 1] ?? "";
  assert.equal(output, `type=docker,"dest=${dest.replace(/"/g, '""')}"`);
  // As buildx reads it (one CSV record): two fields, the type and the whole path.
  assert.deepEqual(csvFields(output), ["type=docker", `dest=${dest}`]);
});

test("no image name without PLUGIN_REPO (a dry run may build an unnamed image)", () => {
  const args = buildxBuildArgs(modeBase, plan({ output: { kind: "cacheOnly" }, imageRefs: [] }));
  assert.equal(args.includes("--tag"), false);
});

test("no secret value is ever in the argv: env secrets by name, build args from env by name", () => {
  const env = { NPM_TOKEN: "s3cr3t-value", GIT_SHA: "deadbeef" };
  const args = buildxBuildArgs(
    testSettings({ secretsFromEnv: ["npm=NPM_TOKEN"], buildArgsFromEnv: ["GIT_SHA"], password: "hunter22" }),
    plan(),
  );
  const joined = args.join(" ");
  for (const value of [...Object.values(env), "hunter22"]) assert.equal(joined.includes(value), false, value);
});

test("malformed secrets are bad input naming the setting", () => {
  for (const [settings, setting] of [
    [{ secretsFromEnv: ["NPM_TOKEN"] }, "PLUGIN_SECRETS_FROM_ENV"],
    [{ secretsFromEnv: ["npm="] }, "PLUGIN_SECRETS_FROM_ENV"],
    [{ secretsFromFile: ["=/etc/x"] }, "PLUGIN_SECRETS_FROM_FILE"],
  ] as [Partial<Settings>, string][]) {
    assert.throws(
      () => secretArgs(testSettings(settings)),
      (error: unknown) =>
        error instanceof UsageError && error.message.includes(setting) && error.exitCode === 2,
    );
  }
});

// -- builders

/** The create argv with the settings' own driver options and config, nothing from the environment. */
function createArgs(settings: Settings, name: string): string[] {
  return builderCreateArgs(settings, {
    name,
    driverOpts: settings.builderDriverOpts,
    configFile: settings.builderConfig,
  });
}

test("docker driver (default, or named): nothing to create", () => {
  assert.equal(createdDriver(testSettings()), undefined);
  assert.equal(createdDriver(testSettings({ builderDriver: "docker" })), undefined);
  assert.equal(createdDriver(testSettings({ builderDriver: "" })), undefined);
});

test("docker-container builder: driver options and buildkitd config", () => {
  const settings = testSettings({
    builderDriver: "docker-container",
    builderDriverOpts: ["image=moby/buildkit:v0.13.2", "network=host"],
    builderConfig: "/etc/buildkitd.toml",
  });
  assert.deepEqual(createArgs(settings, "buildx-step-ab12"), [
    "buildx",
    "create",
    "--name",
    "buildx-step-ab12",
    "--driver",
    "docker-container",
    "--driver-opt",
    "image=moby/buildkit:v0.13.2",
    "--driver-opt",
    "network=host",
    "--buildkitd-config",
    "/etc/buildkitd.toml",
  ]);
});

test("remote builder: the endpoint last; refused without PLUGIN_BUILDER_REMOTE_CONN", () => {
  assert.deepEqual(
    createArgs(
      testSettings({
        builderDriver: "remote",
        builderRemoteConn: "tcp://buildkitd:1234",
        builderDriverOpts: ["cacert=/c/ca.pem"],
      }),
      "b1",
    ),
    [
      "buildx",
      "create",
      "--name",
      "b1",
      "--driver",
      "remote",
      "--driver-opt",
      "cacert=/c/ca.pem",
      "tcp://buildkitd:1234",
    ],
  );
  assert.throws(
    () => createArgs(testSettings({ builderDriver: "remote" }), "b1"),
    (error: unknown) => error instanceof UsageError && /PLUGIN_BUILDER_REMOTE_CONN/.test(error.message),
  );
});

test("kubernetes builder: driver options, no endpoint", () => {
  assert.deepEqual(
    createArgs(
      testSettings({ builderDriver: "kubernetes", builderDriverOpts: ["namespace=ci", "replicas=2"] }),
      "k",
    ),
    [
      "buildx",
      "create",
      "--name",
      "k",
      "--driver",
      "kubernetes",
      "--driver-opt",
      "namespace=ci",
      "--driver-opt",
      "replicas=2",
    ],
  );
});

test("an unknown driver is bad input naming PLUGIN_BUILDER_DRIVER", () => {
  assert.throws(
    () => createdDriver(testSettings({ builderDriver: "podman" })),
    (error: unknown) => error instanceof UsageError && /PLUGIN_BUILDER_DRIVER="podman"/.test(error.message),
  );
});

test("bootstrap and remove", () => {
  assert.deepEqual(builderBootstrapArgs("b1"), ["buildx", "inspect", "--bootstrap", "--builder", "b1"]);
  assert.deepEqual(builderRemoveArgs("b1"), ["buildx", "rm", "--force", "b1"]);
});

test("builder names: unique by default, the user's when valid", () => {
  assert.equal(builderName(testSettings(), "0a1b2c3d"), "buildx-step-0a1b2c3d");
  assert.notEqual(builderName(testSettings()), builderName(testSettings()));
  assert.equal(builderName(testSettings({ builderName: "ci-builder" })), "ci-builder");
  assert.throws(() => builderName(testSettings({ builderName: "-bad name" })), UsageError);
});

test("the build runs on the created builder", () => {
  const args = buildxBuildArgs(testSettings(), plan({ builder: "buildx-step-ab12" }));
  assert.deepEqual(args.slice(0, 6), [
    "buildx",
    "build",
    "--progress",
    "plain",
    "--builder",
    "buildx-step-ab12",
  ]);
});
