// SIGINT/SIGTERM during a push-only run (issue 11.11): the open upload sessions are cancelled (DELETE), no
// tag is written, and the run exits 128+n with a line saying what was and was not published.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdir, readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { gzipSync } from "node:zlib";
import { cliPath, startCli } from "../helpers/cli.js";
import { startFaultProxy } from "../helpers/fault-proxy.js";
import { registryTags } from "../helpers/images.js";
import { writeOciTarball } from "../helpers/oci-tarball.js";
import { type RegistryServer, startRegistry } from "../helpers/registry.js";
import { tempDir } from "../helpers/tmp.js";

let work: Awaited<ReturnType<typeof tempDir>>;
let registry: RegistryServer;

before(async () => {
  work = await tempDir("buildx-step-signals-");
  registry = await startRegistry();
});
after(async () => {
  await registry?.stop();
  await work?.remove();
});

/**
 * The upload sessions the registry holds open for a repository, in distribution's filesystem layout: a
 * session is `_uploads/<id>/` with its `startedat` and `data`. A cancelled one is removed, except for a
 * `hashstates/` folder that distribution 2.8 writes again when it closes the request (no session: the
 * registry answers 404 for it).
 */
async function openUploads(repository: string): Promise<{ id: string; bytes: number }[]> {
  const folder = join(registry.storage, "docker/registry/v2/repositories", repository, "_uploads");
  const ids = await readdir(folder).catch(() => [] as string[]);
  const sessions = await Promise.all(
    ids.map(async (id) => {
      const files = await readdir(join(folder, id));
      if (!files.includes("startedat") && !files.includes("data")) return undefined;
      const bytes = await stat(join(folder, id, "data")).then(
        (info) => info.size,
        () => 0,
      );
      return { id, bytes };
    }),
  );
  return sessions.filter((session) => session !== undefined);
}

for (const [signal, code] of [
  ["SIGTERM", 143],
  ["SIGINT", 130],
] as const) {
  test(`${signal} in the middle of a 128 MiB upload: sessions cancelled, no tag, exit ${code}, the line`, async () => {
    const repository = `signals/${signal.toLowerCase()}`;
    const tarball = await writeOciTarball(join(work.path, `${signal}.tar`), {
      layers: [randomBytes(128 * 1024 * 1024), randomBytes(3_000)],
    });
    const run = startCli(["push", tarball.path, "--repo", `${registry.host}/${repository}`, "--tag", "v1"], {
      env: { CI: "true" },
    });
    // Wait until the registry holds part of the big layer in an open session.
    const deadline = Date.now() + 60_000;
    let seen = false;
    while (!seen && Date.now() < deadline && run.child.exitCode === null) {
      seen = (await openUploads(repository)).some((upload) => upload.bytes > 4 * 1024 * 1024);
      if (!seen) await new Promise((resolve) => setTimeout(resolve, 20));
    }
    assert.ok(seen, `no upload in progress was seen: ${run.stderr()}`);
    run.child.kill(signal);
    const result = await run.done;
    assert.equal(result.code, code, result.stderr);
    assert.match(result.stderr, new RegExp(`${signal}: stopping the push and cancelling its open uploads`));
    assert.match(
      result.stderr,
      new RegExp(
        `stopped by ${signal}: nothing was published: no tag was written; open uploads were cancelled`,
      ),
    );
    assert.equal(result.stdout, "");
    assert.deepEqual(await registryTags(registry.url, repository), []);
    assert.deepEqual(await openUploads(repository), [], "no upload session is left open");
  });
}

test("SIGTERM while a tag is written: that write ends, later tags are not written, the line names both", async () => {
  const repository = "signals/tags";
  const tarball = await writeOciTarball(join(work.path, "tags.tar"));
  // The registry takes 2 s to write v2: the signal arrives while it does.
  const proxy = await startFaultProxy(registry.host, [
    { method: "PUT", path: /\/manifests\/v2$/, times: 1, action: { kind: "delay", ms: 2_000 } },
  ]);
  try {
    const run = startCli(
      [
        "push",
        tarball.path,
        "--repo",
        `${proxy.host}/${repository}`,
        "--tag",
        "v1",
        "--tag",
        "v2",
        "--tag",
        "v3",
      ],
      { env: { CI: "true" } },
    );
    const deadline = Date.now() + 30_000;
    while (!proxy.requests.some((r) => r.fault?.startsWith("delay")) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    run.child.kill("SIGTERM");
    const result = await run.done;
    assert.equal(result.code, 143, result.stderr);
    assert.match(
      result.stderr,
      new RegExp(
        `stopped by SIGTERM: published before it stopped: ${proxy.host}/${repository}:v1, ${proxy.host}/${repository}:v2; not published: v3`,
      ),
    );
    assert.deepEqual((await registryTags(registry.url, repository)).sort(), ["v1", "v2"]);
  } finally {
    await proxy.stop();
  }
});

test("SIGTERM while a piped, compressed input is still read: exit 143 at once, no temporary copy, nothing pushed", async () => {
  const repository = "signals/piped";
  const tarball = await writeOciTarball(join(work.path, "piped.tar"), {
    layers: [randomBytes(4 * 1024 * 1024)],
  });
  const compressed = gzipSync(await readFile(tarball.path), { level: 1 });
  const tmp = join(work.path, "piped-tmp");
  await mkdir(tmp);
  const child = spawn(
    process.execPath,
    [cliPath, "push", "-", "--repo", `${registry.host}/${repository}`, "-t", "v1"],
    {
      env: { PATH: process.env.PATH, HOME: process.env.HOME, TMPDIR: tmp, CI: "true" },
      stdio: ["pipe", "ignore", "pipe"],
    },
  );
  let stderr = "";
  child.stderr.on("data", (data: Buffer) => {
    stderr += data.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.once("close", (code) => resolve(code)));
  // The run may close its end first (it stops reading once stopped): not this test's failure.
  child.stdin.on("error", () => {});
  // Half of it, and the pipe kept open: the run waits for the rest, its temporary copy begun.
  child.stdin.write(compressed.subarray(0, compressed.length / 2));
  const deadline = Date.now() + 30_000;
  while ((await readdir(tmp)).length === 0 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  assert.equal((await readdir(tmp)).length, 1, `no temporary copy was begun: ${stderr}`);
  const started = Date.now();
  child.kill("SIGTERM");
  const code = await exited;
  child.stdin.destroy();
  assert.equal(code, 143, stderr);
  assert.ok(Date.now() - started < 5_000, `exited ${Date.now() - started} ms after the signal`);
  assert.match(stderr, /SIGTERM: stopping the push/);
  assert.deepEqual(await readdir(tmp), [], "no temporary copy is left");
  assert.deepEqual(await registryTags(registry.url, repository), []);
});

test("PLUGIN_PUSH_TIMEOUT also bounds reading a pipe that stalls: exit 1 naming it, no temporary copy", async () => {
  const tarball = await writeOciTarball(join(work.path, "stalled.tar"));
  const compressed = gzipSync(await readFile(tarball.path));
  const tmp = join(work.path, "stalled-tmp");
  await mkdir(tmp);
  const child = spawn(
    process.execPath,
    [cliPath, "push", "-", "--repo", `${registry.host}/signals/stalled`, "-t", "v1", "--push-timeout", "2s"],
    {
      env: { PATH: process.env.PATH, HOME: process.env.HOME, TMPDIR: tmp, CI: "true" },
      stdio: ["pipe", "ignore", "pipe"],
    },
  );
  let stderr = "";
  child.stderr.on("data", (data: Buffer) => {
    stderr += data.toString();
  });
  child.stdin.on("error", () => {});
  const exited = new Promise<number | null>((resolve) => child.once("close", (code) => resolve(code)));
  child.stdin.write(compressed.subarray(0, compressed.length / 2));
  const started = Date.now();
  const code = await exited;
  child.stdin.destroy();
  assert.equal(code, 1, stderr);
  assert.ok(Date.now() - started < 10_000, `exited ${Date.now() - started} ms after it started`);
  assert.match(
    stderr,
    /the push did not finish within PLUGIN_PUSH_TIMEOUT=2s \(the input was still being read\); nothing was published/,
  );
  assert.deepEqual(await readdir(tmp), [], "no temporary copy is left");
});
