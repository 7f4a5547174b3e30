/**
 * The parts of dockerode that the bundle loads at first use only (scripts/bundle-lazy-requires.ts) still load
 * and work when used: an ssh:// engine goes through docker-modem's ssh transport (ssh2, whose WebAssembly
 * loader reads __dirname), in the bundle (ES modules) and in the single executable (CommonJS). Nothing
 * listens on the port, so the run ends with the connection error a user would see, and nothing else.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { promisify } from "node:util";
import { runCli } from "../helpers/cli.js";
import { freePort } from "../helpers/free-port.js";
import { buildTarball, sampleContext } from "../helpers/images.js";
import { singleExecutable } from "../helpers/shipped.js";
import { tempDir } from "../helpers/tmp.js";

const exec = promisify(execFile);

let work: Awaited<ReturnType<typeof tempDir>>;
let tarball: string;

before(async () => {
  work = await tempDir("buildx-step-lazy-");
  const context = await sampleContext(join(work.path, "context"));
  tarball = await buildTarball({ context, dest: join(work.path, "image.tar") });
});
after(async () => {
  await work?.remove();
});

const args = () => ["push", tarball, "--via", "daemon", "--repo", "127.0.0.1:5000/lazy/app", "--tag", "1"];

function assertSshConnectionError(stderr: string): void {
  assert.match(
    stderr,
    /cannot reach the Docker engine at ssh:\/\/nobody@127\.0\.0\.1:\d+ \(connect ECONNREFUSED\)/,
  );
  assert.doesNotMatch(stderr, /is not defined|Cannot find module|single-executable/);
}

test("bundle: an ssh:// engine loads ssh2 at first use and fails on the connection only", async () => {
  const port = await freePort();
  const result = await runCli(args(), { env: { DOCKER_HOST: `ssh://nobody@127.0.0.1:${port}` } });
  assert.equal(result.code, 1, result.stderr);
  assertSshConnectionError(result.stderr);
});

test("single executable: the same ssh:// engine path", async () => {
  const sea = await singleExecutable();
  const port = await freePort();
  const failed = await exec(sea, args(), {
    env: { PATH: process.env.PATH, HOME: process.env.HOME, DOCKER_HOST: `ssh://nobody@127.0.0.1:${port}` },
  }).then(
    () => undefined,
    (error: { code?: number; stderr?: string }) => error,
  );
  assert.ok(failed, "the push failed");
  assert.equal(failed.code, 1, failed.stderr);
  assertSshConnectionError(failed.stderr ?? "");
});
