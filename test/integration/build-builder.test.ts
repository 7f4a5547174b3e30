// Builders other than the engine's own: created for the run, bootstrapped, and removed afterwards, also
// when they fail to start or the run is stopped. No BuildKit image can be pulled here and no buildkitd
// runs, so these builders fail at their bootstrap: that failure, its message and the cleanup are tested.
import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { promisify } from "node:util";
import { cliPath, runCli } from "../helpers/cli.js";
import { freePort } from "../helpers/free-port.js";
import { sampleContext } from "../helpers/images.js";
import { tempDir } from "../helpers/tmp.js";

const exec = promisify(execFile);
let work: Awaited<ReturnType<typeof tempDir>>;

before(async () => {
  work = await tempDir("buildx-step-build-builder-");
});
after(async () => {
  await work?.remove();
});

const unique = () => `bxs${randomBytes(4).toString("hex")}`;

async function builderExists(name: string): Promise<boolean> {
  return exec("docker", ["buildx", "inspect", name]).then(
    () => true,
    () => false,
  );
}

test("docker-container: the builder is created, fails to boot (no BuildKit image), and is removed; exit 1", async () => {
  const context = await sampleContext(join(work.path, "container"));
  const name = unique();
  const result = await runCli([], {
    cwd: context,
    env: {
      PLUGIN_DRY_RUN: "true",
      PLUGIN_BUILDER_DRIVER: "docker-container",
      PLUGIN_BUILDER_NAME: name,
      PLUGIN_BUILDER_DRIVER_OPTS: "image=moby/buildkit:buildx-stable-1",
    },
  });
  assert.equal(result.code, 1, result.stderr);
  assert.match(result.stderr, new RegExp(`creating builder ${name} \\(driver docker-container\\)`));
  assert.match(
    result.stderr,
    new RegExp(`error: bootstrapping builder ${name} .*failed \\(exit code 1\\): ERROR: .*moby/buildkit`),
  );
  assert.match(result.stderr, new RegExp(`removed builder ${name}`));
  assert.equal(await builderExists(name), false);
  const { stdout } = await exec("docker", ["ps", "--all", "--format", "{{.Names}}"]);
  assert.doesNotMatch(stdout, new RegExp(name), "no builder container left");
});

test("remote: a builder for an endpoint that does not answer is removed again; stopped by SIGTERM meanwhile", async () => {
  const context = await sampleContext(join(work.path, "remote"));
  const name = unique();
  const port = await freePort();
  const child = spawn(process.execPath, [cliPath], {
    cwd: context,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      PLUGIN_DRY_RUN: "true",
      PLUGIN_BUILDER_DRIVER: "remote",
      PLUGIN_BUILDER_REMOTE_CONN: `tcp://127.0.0.1:${port}`,
      PLUGIN_BUILDER_NAME: name,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr.on("data", (data: Buffer) => {
    stderr += data.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  // Wait until the bootstrap is under way (buildx waits ~20 s for a remote that does not answer).
  const deadline = Date.now() + 15_000;
  while (!(await builderExists(name)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
  assert.equal(await builderExists(name), true, `the builder was created: ${stderr}`);
  child.kill("SIGTERM");
  const code = await exited;
  assert.equal(code, 143, stderr);
  assert.match(stderr, new RegExp(`removed builder ${name}`));
  assert.equal(await builderExists(name), false);
});

test("remote: a bootstrap that times out exits 1 with buildx's reason, and the builder is gone", {
  timeout: 90_000,
}, async () => {
  const context = await sampleContext(join(work.path, "remote-timeout"));
  const name = unique();
  const port = await freePort();
  const result = await runCli([], {
    cwd: context,
    env: {
      PLUGIN_DRY_RUN: "true",
      PLUGIN_BUILDER_DRIVER: "remote",
      PLUGIN_BUILDER_REMOTE_CONN: `tcp://127.0.0.1:${port}`,
      PLUGIN_BUILDER_NAME: name,
    },
  });
  assert.equal(result.code, 1, result.stderr);
  assert.match(result.stderr, /error: bootstrapping builder .*failed \(exit code 1\): ERROR: /);
  assert.equal(await builderExists(name), false);
});

test("remote without PLUGIN_BUILDER_REMOTE_CONN: exit 2, no builder created", async () => {
  const context = await sampleContext(join(work.path, "remote-bad"));
  const name = unique();
  const result = await runCli([], {
    cwd: context,
    env: { PLUGIN_DRY_RUN: "true", PLUGIN_BUILDER_DRIVER: "remote", PLUGIN_BUILDER_NAME: name },
  });
  assert.equal(result.code, 2, result.stderr);
  assert.match(result.stderr, /PLUGIN_BUILDER_REMOTE_CONN/);
  assert.equal(await builderExists(name), false);
});

test("PLUGIN_BUILDER_DRIVER_OPTS_NEW that does not boot: removed, made again with PLUGIN_BUILDER_DRIVER_OPTS (the plugin's fallback)", async () => {
  const context = await sampleContext(join(work.path, "opts-new"));
  const name = unique();
  const result = await runCli([], {
    cwd: context,
    env: {
      PLUGIN_DRY_RUN: "true",
      PLUGIN_BUILDER_DRIVER: "docker-container",
      PLUGIN_BUILDER_NAME: name,
      PLUGIN_BUILDER_DRIVER_OPTS_NEW: "image=buildx-step.invalid/buildkit:new",
      PLUGIN_BUILDER_DRIVER_OPTS: "image=buildx-step.invalid/buildkit:old",
    },
  });
  // No BuildKit image can be pulled here: the second builder fails too, and that failure is the run's.
  assert.equal(result.code, 1, result.stderr);
  assert.match(
    result.stderr,
    new RegExp(`creating builder ${name} \\(driver docker-container, PLUGIN_BUILDER_DRIVER_OPTS_NEW\\)`),
  );
  assert.match(
    result.stderr,
    /warning: the builder did not start with PLUGIN_BUILDER_DRIVER_OPTS_NEW: .*buildkit:new.*; creating it again with PLUGIN_BUILDER_DRIVER_OPTS, as the plugin does/,
  );
  assert.match(result.stderr, new RegExp(`creating builder ${name} \\(driver docker-container\\)\\n`));
  assert.match(result.stderr, /error: bootstrapping builder .*buildkit:old/);
  assert.equal(result.stderr.match(new RegExp(`removed builder ${name}`, "g"))?.length, 2);
  assert.equal(await builderExists(name), false);
});
