// Pushes that share blobs (issue 16.1): a manifest write refused because the registry does not know a blob
// it names is repaired (the blobs checked, what is missing uploaded again, verified) and sent again within
// the retry budget; a blob another push put in place meanwhile is neither sent on nor completed again;
// and ten pushes of images on one base into one repository at once all succeed. A real registry
// (distribution 2.8), behind the fault proxy where a test needs to steer it.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { RegistryClient } from "../../lib/registry/client.js";
import { pushImage } from "../../lib/registry/push.js";
import { RepositoryClient } from "../../lib/registry/repository.js";
import { type CliResult, runCli } from "../helpers/cli.js";
import { type FaultProxy, startFaultProxy } from "../helpers/fault-proxy.js";
import { registryManifest, registryTags } from "../helpers/images.js";
import { writeOciTarball } from "../helpers/oci-tarball.js";
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

function push(tarball: string, target: string, tag: string): Promise<CliResult> {
  return runCli(["push", tarball, "--repo", target, "--tag", tag], { env: { CI: "true" } });
}

/** Waits (bounded) until the proxy has seen a request for which `match` holds. */
async function seen(proxy: FaultProxy, match: (r: FaultProxy["requests"][number]) => boolean): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!proxy.requests.some(match)) {
    if (Date.now() > deadline) throw new Error("the request never came");
    await sleep(20);
  }
}

describe("a manifest write refused for a blob the registry does not know", () => {
  test("the blobs are checked, the missing one is uploaded again, and the write goes through", async () => {
    const image = await writeOciTarball(join(work.path, "repair.tar"), { layers: [randomBytes(50_000)] });
    const layer = image.layers[0]?.digest ?? "";
    // The registry says it has the layer when the push checks, so the push skips it; the manifest write
    // then meets the registry's own refusal (MANIFEST_BLOB_UNKNOWN), as in the race of many pushes.
    const proxy = await startFaultProxy(registry.host, [
      {
        method: "HEAD",
        path: new RegExp(`/blobs/${layer}$`),
        times: 1,
        action: { kind: "status", status: 200 },
      },
    ]);
    try {
      const result = await push(image.path, `${proxy.host}/shared/repair`, "v1");
      assert.equal(result.code, 0, result.stderr);
      assert.match(
        result.stderr,
        /retrying write of manifest sha256:[0-9a-f]{64} as .*shared\/repair:v1 .*MANIFEST_BLOB_UNKNOWN/,
      );
      assert.match(
        result.stderr,
        new RegExp(`${layer} is not in .*shared/repair although it was pushed: uploading it again`),
      );
      assert.equal((await registryManifest(`${registry.host}/shared/repair:v1`)).digest, image.digest);
      const manifestPuts = proxy.requests.filter((r) => r.method === "PUT" && r.path.includes("/manifests/"));
      assert.deepEqual(
        manifestPuts.map((r) => r.status),
        [400, 201],
      );
    } finally {
      await proxy.stop();
    }
  });

  test("a refusal that does not go away: exit 1 after the retry budget, with the registry's words", async () => {
    const image = await writeOciTarball(join(work.path, "refused.tar"));
    const refusal = JSON.stringify({
      errors: [{ code: "MANIFEST_BLOB_UNKNOWN", message: "blob unknown to registry" }],
    });
    const proxy = await startFaultProxy(registry.host, [
      {
        method: "PUT",
        path: /\/manifests\//,
        times: Number.POSITIVE_INFINITY,
        action: { kind: "status", status: 400, body: refusal },
      },
    ]);
    try {
      const result = await push(image.path, `${proxy.host}/shared/refused`, "v1");
      assert.equal(result.code, 1, result.stderr);
      assert.match(result.stderr, /HTTP 400 \(MANIFEST_BLOB_UNKNOWN: blob unknown to registry\)/);
      assert.equal(proxy.faultsApplied(), 5, "every attempt of the budget");
      assert.deepEqual(await registryTags(registry.url, "shared/refused"), []);
    } finally {
      await proxy.stop();
    }
  });
});

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

describe("many pushes at once", () => {
  test("ten pushes of three images on one base into one repository: all succeed, no session left", async () => {
    const base = randomBytes(12_000_000);
    const small = Array.from({ length: 6 }, () => randomBytes(200_000));
    const images = await Promise.all(
      [0, 1, 2].map((i) =>
        writeOciTarball(join(work.path, `fleet-${i}.tar`), {
          layers: [base, ...small, randomBytes(9_000_000), randomBytes(100_000)],
        }),
      ),
    );
    const isolated = await startRegistry();
    try {
      const results = await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          push(images[i % 3]?.path ?? "", `${isolated.host}/shared/fleet`, `t${i}`),
        ),
      );
      for (const [i, result] of results.entries()) {
        assert.equal(result.code, 0, `push ${i}: ${result.stderr}`);
        const served = await registryManifest(`${isolated.host}/shared/fleet:t${i}`);
        assert.equal(served.digest, images[i % 3]?.digest, `t${i}`);
      }
      assert.deepEqual(await uploadSessions(isolated.storage), []);
    } finally {
      await isolated.stop();
    }
  });
});
