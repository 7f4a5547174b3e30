// Push-only reaches the registry (its ping) while the tarball is read and checked, but nothing that needs
// the input to be good runs before it is: a refused tarball runs no credential helper and asks no token
// service, so a slow or hanging login cannot hold up exit 2. A real credential helper (a script on PATH
// speaking docker's protocol) records each call.
import assert from "node:assert/strict";
import { chmod, mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { runCli } from "../helpers/cli.js";
import { generateImage } from "../helpers/random-tarball.js";
import { type RegistryServer, startRegistry } from "../helpers/registry.js";
import { tempDir } from "../helpers/tmp.js";

let work: Awaited<ReturnType<typeof tempDir>>;
let registry: RegistryServer;
let env: NodeJS.ProcessEnv;
let calls: string;

before(async () => {
  work = await tempDir("buildx-step-input-first-");
  registry = await startRegistry();
  const bin = join(work.path, "bin");
  await mkdir(bin);
  calls = join(work.path, "calls.log");
  // Records the call, then has nothing for this registry (anonymous access goes on).
  const helper = join(bin, "docker-credential-recording");
  await writeFile(
    helper,
    `#!/bin/sh\nread -r address || true\necho "$1 $address" >> ${calls}\necho "credentials not found in native keychain"\nexit 1\n`,
  );
  await chmod(helper, 0o755);
  const config = join(work.path, "docker");
  await mkdir(config);
  await writeFile(
    join(config, "config.json"),
    JSON.stringify({ credHelpers: { [registry.host]: "recording" } }),
  );
  env = { PATH: `${bin}:${process.env.PATH}`, DOCKER_CONFIG: config };
});
after(async () => {
  await registry?.stop();
  await work?.remove();
});

const helperCalls = () => readFile(calls, "utf8").catch(() => "");

test("a tarball that is refused runs no credential helper: exit 2, the input's error", async () => {
  const garbage = join(work.path, "garbage.tar");
  await writeFile(garbage, Buffer.alloc(4096, 0x41));
  const result = await runCli(["push", garbage, "--repo", `${registry.host}/input/first`, "--tag", "v1"], {
    env,
  });
  assert.equal(result.code, 2, result.stderr);
  assert.match(result.stderr, /garbage\.tar/);
  assert.equal(await helperCalls(), "", "the helper was not run");
});

test("a good tarball asks the helper once the input is checked, and is pushed", async () => {
  const image = await generateImage(join(work.path, "good"), [2_000], "input/first:v1");
  const result = await runCli(
    ["push", image.tarball, "--repo", `${registry.host}/input/first`, "--tag", "v1"],
    { env },
  );
  assert.equal(result.code, 0, result.stderr);
  assert.match(await helperCalls(), new RegExp(`get ${registry.host.replace(/\./g, "\\.")}`));
});
