// A registry that dies during a push and comes back (issue 16.6, what already held): killed (SIGKILL)
// while a 420 MB tarball is being uploaded and started again on the same port and storage, the push
// retries, completes, and the tags serve the tarball's digest.
import assert from "node:assert/strict";
import { stat } from "node:fs/promises";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { startCli } from "../helpers/cli.js";
import { registryManifest } from "../helpers/images.js";
import { generateImage, MB } from "../helpers/random-tarball.js";
import { type RegistryServer, startRegistry, uploadSessions } from "../helpers/registry.js";
import { tempDir } from "../helpers/tmp.js";

let work: Awaited<ReturnType<typeof tempDir>>;
let registry: RegistryServer;

before(async () => {
  work = await tempDir("buildx-step-restart-");
  registry = await startRegistry();
});
after(async () => {
  await registry?.stop();
  await work?.remove();
});

/** Bytes the registry holds in upload sessions (what it has received of the blobs under way). */
async function bytesInSessions(): Promise<number> {
  let total = 0;
  for (const session of await uploadSessions(registry.storage)) {
    total += (await stat(join(session, "data")).catch(() => ({ size: 0 }))).size;
  }
  return total;
}

test("the registry killed during a 420 MB push and started again: the push completes at the tarball's digest", async () => {
  const image = await generateImage(
    join(work.path, "image"),
    [210 * MB, 210 * MB],
    "buildx-step-test/restart:latest",
  );
  const started = Date.now();
  const pushing = startCli(
    ["push", image.tarball, "--repo", `${registry.host}/restart/app`, "--tag", "v1", "--tag", "v2", "--json"],
    { env: { CI: "true" } },
  );
  // Killed once the upload is well under way (0.6 s into the push on an idle machine): bytes have
  // reached the registry, and requests are cut mid-body.
  const deadline = Date.now() + 60_000;
  while ((await bytesInSessions()) < 20 * MB) {
    if (Date.now() > deadline || pushing.child.exitCode !== null) break;
    await sleep(20);
  }
  const killedAt = Date.now() - started;
  assert.ok(
    pushing.child.exitCode === null,
    `the push ended before the registry was killed: ${pushing.stderr()}`,
  );
  await registry.kill();
  await sleep(500);
  await registry.start();
  // Bounded: a push that hangs is killed, and fails the test with its output.
  const bound = setTimeout(() => pushing.child.kill("SIGKILL"), 120_000);
  const result = await pushing.done.finally(() => clearTimeout(bound));
  const seconds = (Date.now() - started) / 1000;
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stderr, /retrying upload of blob sha256:/);
  assert.equal((JSON.parse(result.stdout) as { digest: string }).digest, image.manifest.digest);
  for (const tag of ["v1", "v2"]) {
    assert.equal(
      (await registryManifest(`${registry.host}/restart/app:${tag}`)).digest,
      image.manifest.digest,
    );
  }
  // For the closing note: when it was killed, how long the push took in all, what the registry keeps.
  const leftover = (await uploadSessions(registry.storage)).length;
  process.stdout.write(
    `# killed ${killedAt} ms into the push; the push took ${seconds.toFixed(1)} s; upload sessions left in the registry: ${leftover}\n`,
  );
});
