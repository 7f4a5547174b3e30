// PLUGIN_REGISTRY_CA and PLUGIN_INSECURE in builds: the buildkitd.toml of a created builder (golden text,
// merged with PLUGIN_BUILDER_CONFIG), and what the docker driver's engine needs instead.
import assert from "node:assert/strict";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { prepareBuilder } from "../../lib/buildx/builder.js";
import {
  builderTlsConfig,
  buildRegistryHosts,
  configuredRegistryHosts,
} from "../../lib/buildx/buildkitd-config.js";
import type { CleanupScope } from "../../lib/buildx/cleanup.js";
import {
  adviseOnRegistryTls,
  engineRegistryAdvice,
  hostsWithoutEngineCa,
} from "../../lib/buildx/engine-registry-advice.js";
import type { DockerRunner } from "../../lib/buildx/runner.js";
import type { Settings } from "../../lib/config/settings.js";
import { testSettings } from "../helpers/settings.js";
import { tempDir } from "../helpers/tmp.js";

const cwd = { cwd: "/work" };

test("the registries: PLUGIN_REPO's, PLUGIN_REGISTRY's, the base image registry's; once each, never Docker Hub", () => {
  assert.deepEqual(
    buildRegistryHosts(
      testSettings({
        repo: "reg.corp:5000/team/app",
        registry: "https://reg.corp:5000/",
        baseImageRegistry: "mirror.corp",
      }),
    ),
    ["reg.corp:5000", "mirror.corp"],
  );
  // The default PLUGIN_REGISTRY is Docker Hub's; a repo without host is on Docker Hub.
  assert.deepEqual(buildRegistryHosts(testSettings({ repo: "team/app" })), []);
  assert.deepEqual(
    buildRegistryHosts(testSettings({ repo: "team/app", baseImageRegistry: "https://index.docker.io/v1/" })),
    [],
  );
  // Bake without PLUGIN_REPO: PLUGIN_REGISTRY is the registry known before the build.
  assert.deepEqual(buildRegistryHosts(testSettings({ registry: "reg.corp" })), ["reg.corp"]);
});

test("golden buildkitd.toml: ca for PLUGIN_REGISTRY_CA, http + insecure for PLUGIN_INSECURE", () => {
  assert.deepEqual(builderTlsConfig(testSettings({ repo: "reg.corp/app" }), undefined, cwd), {
    added: [],
    theirs: [],
  });
  assert.equal(
    builderTlsConfig(testSettings({ repo: "reg.corp/app", registryCa: "certs/ca.pem" }), undefined, cwd).text,
    '# PLUGIN_REGISTRY_CA / PLUGIN_INSECURE (added by buildx-step)\n[registry."reg.corp"]\n  ca = ["/work/certs/ca.pem"]\n',
  );
  const both = builderTlsConfig(
    testSettings({
      repo: "reg.corp:5000/app",
      baseImageRegistry: "mirror.corp",
      registryCa: "/etc/ca.pem",
      insecure: true,
    }),
    undefined,
    cwd,
  );
  assert.deepEqual(both.added, ["reg.corp:5000", "mirror.corp"]);
  assert.equal(
    both.text,
    [
      "# PLUGIN_REGISTRY_CA / PLUGIN_INSECURE (added by buildx-step)",
      '[registry."reg.corp:5000"]',
      "  http = true",
      "  insecure = true",
      '  ca = ["/etc/ca.pem"]',
      "",
      '[registry."mirror.corp"]',
      "  http = true",
      "  insecure = true",
      '  ca = ["/etc/ca.pem"]',
      "",
    ].join("\n"),
  );
});

test("merged with PLUGIN_BUILDER_CONFIG: theirs first and whole; ours only for a registry theirs does not configure", () => {
  const user =
    'debug = true\n[registry."mirror.corp"]\n  mirrors = ["m2.corp"]\n[worker.oci]\n  max-parallelism = 4';
  const merged = builderTlsConfig(
    testSettings({ repo: "reg.corp/app", baseImageRegistry: "mirror.corp", insecure: true }),
    user,
    cwd,
  );
  assert.deepEqual(merged.theirs, ["mirror.corp"]);
  assert.deepEqual(merged.added, ["reg.corp"]);
  assert.equal(
    merged.text,
    `${user}\n\n# PLUGIN_REGISTRY_CA / PLUGIN_INSECURE (added by buildx-step)\n[registry."reg.corp"]\n  http = true\n  insecure = true\n`,
  );
  // Every registry is theirs: their file is used as it is (no text of ours).
  const theirs = builderTlsConfig(testSettings({ repo: "mirror.corp/app", insecure: true }), user, cwd);
  assert.deepEqual(theirs, { added: [], theirs: ["mirror.corp"] });
});

test("the registries a buildkitd.toml configures, in every TOML spelling", () => {
  const toml = [
    '# [registry."commented.corp"]',
    "debug = true",
    'registry."root-dotted.corp".http = true',
    '[registry."quoted.corp:5000"]',
    '  ca = ["/a.pem"]',
    "[[registry.'literal.corp'.keypair]]",
    '  key = "/k.pem"',
    "[ registry . localhost ]",
    "[registry]",
    '"inline.corp" = { http = true }',
    '"dotted.corp".insecure = true',
    '[registry."Upper.Corp"]',
    "[worker.oci]",
    '"not-a-registry" = 1',
  ].join("\n");
  assert.deepEqual([...configuredRegistryHosts(toml)].sort(), [
    "dotted.corp",
    "inline.corp",
    "literal.corp",
    "localhost",
    "quoted.corp:5000",
    "root-dotted.corp",
    "upper.corp",
  ]);
});

test("docker driver: one line saying what the engine needs; loopback registries are insecure for it already", () => {
  assert.equal(engineRegistryAdvice(testSettings(), ["reg.corp"]), undefined);
  assert.equal(
    engineRegistryAdvice(testSettings({ registryCa: "/ca.pem", insecure: true }), ["reg.corp:5000"]),
    'the docker driver builds inside the engine, which uses its own registry settings, not PLUGIN_REGISTRY_CA or PLUGIN_INSECURE: it needs PLUGIN_REGISTRY_CA\'s certificate as /etc/docker/certs.d/reg.corp:5000/ca.crt, and reg.corp:5000 in "insecure-registries" of its daemon.json (then a restart) (or set PLUGIN_BUILDER_DRIVER=docker-container, whose builder this run configures)',
  );
  assert.equal(engineRegistryAdvice(testSettings({ insecure: true }), ["127.0.0.1:5000"]), undefined);
});

test("docker driver on this machine: a warning for a registry whose certs.d has no .crt", async (t) => {
  const dir = await tempDir("engine-certs-");
  t.after(dir.remove);
  await mkdir(join(dir.path, "has.corp"));
  await writeFile(join(dir.path, "has.corp", "ca.crt"), "pem");
  await mkdir(join(dir.path, "empty.corp"));
  assert.deepEqual(await hostsWithoutEngineCa(["has.corp", "empty.corp", "none.corp"], dir.path), [
    "empty.corp",
    "none.corp",
  ]);

  const lines = async (env: NodeJS.ProcessEnv, settings: Partial<Settings>) => {
    const said: string[] = [];
    await adviseOnRegistryTls(testSettings({ registryCa: "/ca.pem", ...settings }), {
      env,
      info: (m) => said.push(`info: ${m}`),
      warn: (m) => said.push(`warn: ${m}`),
      certsDir: dir.path,
    });
    return said;
  };
  const local = await lines({}, { repo: "none.corp/app" });
  assert.equal(local.length, 2);
  assert.match(
    local[1] ?? "",
    /^warn: this machine's engine has no CA for none\.corp \(no \.crt file in .*none\.corp\)/,
  );
  assert.equal((await lines({}, { repo: "has.corp/app" })).length, 1, "no warning when the CA is there");
  assert.equal(
    (await lines({ DOCKER_HOST: "tcp://10.0.0.5:2376" }, { repo: "none.corp/app" })).length,
    1,
    "a remote engine's files are not ours to check",
  );
  assert.match(
    (await lines({}, { repo: "none.corp/app", builderName: "mine" })).join("\n"),
    /^info: PLUGIN_BUILDER_NAME=mine is used as it is: .* configure none\.corp in that builder's buildkitd\.toml$/,
  );
});

// -- the created builder, with a fake runner

async function createWith(settings: Partial<Settings>, workDir: string) {
  const seen: { args: string[]; config?: string }[] = [];
  const infos: string[] = [];
  const warnings: string[] = [];
  const runner: DockerRunner = {
    async stream() {},
    async capture(args) {
      const at = args.indexOf("--buildkitd-config");
      const file = at < 0 ? undefined : args[at + 1];
      seen.push({
        args: [...args],
        config: file ? await readFile(file, "utf8").catch(() => undefined) : undefined,
      });
      return "";
    },
  };
  const scope: CleanupScope = { add: () => {}, signal: new AbortController().signal };
  await prepareBuilder(testSettings({ builderName: "b1", ...settings }), {
    env: {},
    runner,
    scope,
    workDir,
    command: { env: {}, cwd: "/work" },
    info: (m) => infos.push(m),
    warn: (m) => warnings.push(m),
  });
  return { create: seen[0], infos, warnings };
}

test("a created builder gets the run's buildkitd.toml, extending PLUGIN_BUILDER_CONFIG", async (t) => {
  const dir = await tempDir("builder-tls-");
  t.after(dir.remove);
  const user = join(dir.path, "mine.toml");
  await writeFile(user, '[registry."mirror.corp"]\n  mirrors = ["m2.corp"]\n');
  const { create, infos, warnings } = await createWith(
    {
      builderDriver: "docker-container",
      builderConfig: user,
      repo: "reg.corp/app",
      baseImageRegistry: "mirror.corp",
      registryCa: "/etc/ca.pem",
    },
    dir.path,
  );
  assert.deepEqual(create?.args.slice(-2), ["--buildkitd-config", join(dir.path, "buildkitd.toml")]);
  assert.equal(
    create?.config,
    '[registry."mirror.corp"]\n  mirrors = ["m2.corp"]\n\n# PLUGIN_REGISTRY_CA / PLUGIN_INSECURE (added by buildx-step)\n[registry."reg.corp"]\n  ca = ["/etc/ca.pem"]\n',
  );
  assert.deepEqual(warnings, [
    "PLUGIN_BUILDER_CONFIG configures the registry mirror.corp: its section is used as it is, and PLUGIN_REGISTRY_CA / PLUGIN_INSECURE are not added for mirror.corp",
  ]);
  assert.match(
    infos.join("\n"),
    /the builder's buildkitd\.toml \(PLUGIN_BUILDER_CONFIG's, extended\): \[registry\."reg\.corp"\]/,
  );
});

test("without the settings PLUGIN_BUILDER_CONFIG goes as it is; a remote builder gets none of ours, with a note", async (t) => {
  const dir = await tempDir("builder-tls-");
  t.after(dir.remove);
  const plain = await createWith(
    { builderDriver: "docker-container", builderConfig: "/etc/buildkitd.toml", repo: "reg.corp/app" },
    dir.path,
  );
  assert.deepEqual(plain.create?.args.slice(-2), ["--buildkitd-config", "/etc/buildkitd.toml"]);
  const remote = await createWith(
    { builderDriver: "remote", builderRemoteConn: "tcp://bk:1234", repo: "reg.corp/app", insecure: true },
    dir.path,
  );
  assert.equal(remote.create?.args.includes("--buildkitd-config"), false);
  assert.match(remote.infos.join("\n"), /do not reach a remote builder/);
});
