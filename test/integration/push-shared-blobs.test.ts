// Pushes that share blobs (issue 16.1): a blob another push put in place meanwhile is neither sent on nor
// completed again. A real registry (distribution 2.8), behind the fault proxy where a test needs to steer it.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { RegistryClient } from "../../lib/registry/client.js";
import { pushImage } from "../../lib/registry/push.js";
import { RepositoryClient } from "../../lib/registry/repository.js";
import { type FaultProxy, startFaultProxy } from "../helpers/fault-proxy.js";
import { registryManifest } from "../helpers/images.js";
import { makeImage } from "../helpers/random-image.js";
import { type RegistryServer, startRegistry, uploadSessions } from "../helpers/registry.js";
import { tempDir } from "../helpers/tmp.js";

let work: Awaited<ReturnType<typeof tempDir>>;
let registry: RegistryServer;

before(async () => {
  work = await tempDir("buildx-step-shared-blobs-");
  registry = await startRegistry();
});
after(async () => {
  await registry?.stop();
  await work?.remove();
});

/** Waits (bounded) until the proxy has seen a request for which `match` holds. */
async function seen(proxy: FaultProxy, match: (r: FaultProxy["requests"][number]) => boolean): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!proxy.requests.some(match)) {
    if (Date.now() > deadline) throw new Error("the request never came");
    await sleep(20);
  }
}

describe("a blob another push put in place meanwhile", () => {
  test("a staged blob that appeared before its commit: the session is cancelled, not completed", async () => {
    const image = makeImage([300_000, 2_000]);
    const big = image.plan.blobs.find((b) => b.size === 300_000);
    assert.ok(big);
    // The second check of the big blob (the one before its commit) is held for a moment, in which
    // another push completes the same blob.
    const proxy = await startFaultProxy(registry.host, [
      {
        method: "HEAD",
        path: new RegExp(`/blobs/${big.digest}$`),
        times: 1,
        only: [2],
        action: { kind: "delay", ms: 1_000 },
      },
    ]);
    const client = await RegistryClient.connect({
      host: proxy.host,
      chunkThreshold: 100_000,
      chunkSize: 64_000,
    });
    const other = await RegistryClient.connect({ host: registry.host });
    try {
      const pushing = pushImage({
        repository: new RepositoryClient(client, "shared/precommit"),
        tags: ["v1"],
        plan: image.plan,
        openBlob: image.openBlob,
      });
      await seen(proxy, (r) => r.fault === "delay 1000");
      await new RepositoryClient(other, "shared/precommit").uploadBlob(big, () => image.openBlob(big.digest));
      const result = await pushing;
      assert.equal(result.digest, image.digest);
      assert.equal(result.blobsSkipped, 1, "the big blob counts as found in the registry");
      const sessionRequests = proxy.requests.filter((r) => r.path.includes("/blobs/uploads/"));
      assert.ok(
        !sessionRequests.some(
          (r) => r.method === "PUT" && r.bodyBytes === 0 && r.path.includes(big.digest.slice(7)),
        ),
        "the staged session was not completed",
      );
      assert.ok(
        sessionRequests.some((r) => r.method === "DELETE"),
        "it was cancelled",
      );
      assert.deepEqual(await uploadSessions(registry.storage), []);
      assert.equal((await registryManifest(`${registry.host}/shared/precommit:v1`)).digest, image.digest);
    } finally {
      await client.close();
      await other.close();
      await proxy.stop();
    }
  });

  test("a blob being staged that appears in the registry: the upload stops sending it", async () => {
    const image = makeImage([1_000_000, 2_000]);
    const big = image.plan.blobs.find((b) => b.size === 1_000_000);
    assert.ok(big);
    // Ten chunks, each held 600 ms: the check between chunks (every 2 s) comes after the third or fourth.
    const proxy = await startFaultProxy(registry.host, [
      { method: "PATCH", times: Number.POSITIVE_INFINITY, action: { kind: "delay", ms: 600 } },
    ]);
    const client = await RegistryClient.connect({
      host: proxy.host,
      chunkThreshold: 100_000,
      chunkSize: 100_000,
    });
    const other = await RegistryClient.connect({ host: registry.host });
    try {
      const pushing = pushImage({
        repository: new RepositoryClient(client, "shared/abandon"),
        tags: ["v1"],
        plan: image.plan,
        openBlob: image.openBlob,
      });
      await seen(proxy, (r) => r.method === "PATCH");
      await new RepositoryClient(other, "shared/abandon").uploadBlob(big, () => image.openBlob(big.digest));
      const result = await pushing;
      assert.equal(result.digest, image.digest);
      const patches = proxy.requests.filter((r) => r.method === "PATCH");
      assert.ok(patches.length < 10, `${patches.length} chunks sent of 10`);
      assert.ok(
        proxy.requests.some((r) => r.method === "DELETE"),
        "the session was cancelled",
      );
      assert.deepEqual(await uploadSessions(registry.storage), []);
    } finally {
      await client.close();
      await other.close();
      await proxy.stop();
    }
  });
});
