// SIGINT/SIGTERM during a push-only run (issue 11.11): the open upload sessions are cancelled (DELETE), no
// tag is written, and the run exits 128+n with a line saying what was and was not published.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { startCli } from "../helpers/cli.js";
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
