// Resumable uploads (issue 16.3): after a broken request the push asks the registry how far the upload
// session got and sends the rest from there; only a session the registry has lost is started again. A
// real registry (distribution 2.8) behind the fault proxy, which counts every byte of every request body.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { Readable } from "node:stream";
import { after, before, describe, test } from "node:test";
import { DEFAULT_CHUNK_SIZE, RegistryClient } from "../../lib/registry/client.js";
import { RepositoryClient } from "../../lib/registry/repository.js";
import { runCli } from "../helpers/cli.js";
import { type FaultProxy, type SeenRequest, startFaultProxy } from "../helpers/fault-proxy.js";
import { registryManifest } from "../helpers/images.js";
import { writeOciTarball } from "../helpers/oci-tarball.js";
import { sha256 } from "../helpers/random-image.js";
import { type RegistryServer, startRegistry } from "../helpers/registry.js";
import { instantClock } from "../helpers/retry-clock.js";
import { tempDir } from "../helpers/tmp.js";

let work: Awaited<ReturnType<typeof tempDir>>;
let registry: RegistryServer;

before(async () => {
  work = await tempDir("buildx-step-resume-");
  registry = await startRegistry();
});
after(async () => {
  await registry?.stop();
  await work?.remove();
});

const isUpload = (r: SeenRequest) => r.path.includes("/blobs/uploads/");
/** Body bytes sent into upload sessions (chunks and monolithic PUTs), dropped requests included. */
const uploadedBytes = (proxy: FaultProxy) =>
  proxy.requests
    .filter((r) => isUpload(r) && (r.method === "PATCH" || r.method === "PUT"))
    .reduce((sum, r) => sum + r.bodyBytes, 0);

describe("a dropped connection goes on where the registry got to", () => {
  test("a 200 MB layer dropped twice, late and early: one session, under 1.3x its bytes sent in all", async () => {
    const size = 200_000_000;
    const image = await writeOciTarball(join(work.path, "big.tar"), { layers: [randomBytes(size)] });
    const chunks = Math.ceil(size / DEFAULT_CHUNK_SIZE);
    // The second chunk breaks half-way; later, the chunk that starts past 60 % of the blob breaks just
    // before its end (its retry is matching request `late + 1`, the next chunk `late + 2`).
    const late = Math.ceil((size * 0.6) / DEFAULT_CHUNK_SIZE) + 2;
    assert.ok(late < chunks + 1, "the late drop falls inside the upload");
    const proxy = await startFaultProxy(registry.host, [
      { method: "PATCH", times: 1, only: [2], action: { kind: "drop-after", bytes: DEFAULT_CHUNK_SIZE / 2 } },
      {
        method: "PATCH",
        times: 1,
        only: [late],
        action: { kind: "drop-after", bytes: DEFAULT_CHUNK_SIZE - 1_000_000 },
      },
    ]);
    try {
      const result = await runCli(
        ["push", image.path, "--repo", `${proxy.host}/resume/big`, "--tag", "v1", "--json"],
        {
          env: { CI: "true" },
        },
      );
      assert.equal(result.code, 0, result.stderr);
      assert.equal(proxy.faultsApplied(), 2, JSON.stringify(proxy.requests.filter((r) => r.fault)));
      assert.equal((JSON.parse(result.stdout) as { digest: string }).digest, image.digest);
      assert.equal((await registryManifest(`${registry.host}/resume/big:v1`)).digest, image.digest);
      const sent = uploadedBytes(proxy);
      assert.ok(sent < 1.3 * size, `sent ${sent} bytes for a blob of ${size}`);
      assert.ok(sent >= size + DEFAULT_CHUNK_SIZE / 2, "the dropped parts were sent again");
      process.stdout.write(`# sent ${sent} bytes for a blob of ${size}: ${(sent / size).toFixed(2)}x\n`);
      // One session for the layer, one for the config; the layer's position was asked after each drop.
      const posts = proxy.requests.filter((r) => r.method === "POST" && isUpload(r));
      assert.equal(posts.length, 2, JSON.stringify(posts));
      const statuses = proxy.requests.filter((r) => r.method === "GET" && isUpload(r));
      assert.deepEqual(
        statuses.map((r) => r.status),
        [204, 204],
      );
      assert.match(result.stderr, /retrying upload of blob sha256:/);
    } finally {
      await proxy.stop();
    }
  });

  test("a drop after every chunk that got through: the upload keeps going past the five attempts", async () => {
    const bytes = randomBytes(1_000_000);
    const blob = { digest: sha256(bytes), size: bytes.length };
    // 16 chunks; every second PATCH breaks: eight drops, each after the registry took one more chunk.
    const proxy = await startFaultProxy(registry.host, [
      {
        method: "PATCH",
        times: 8,
        only: [2, 4, 6, 8, 10, 12, 14, 16],
        action: { kind: "drop-after", bytes: 10_000 },
      },
    ]);
    const client = await RegistryClient.connect({
      host: proxy.host,
      chunkThreshold: 100_000,
      chunkSize: 64_000,
      retry: { clock: instantClock() },
    });
    try {
      const repository = new RepositoryClient(client, "resume/flaky");
      await repository.uploadBlob(blob, () => Readable.from([bytes]));
      assert.equal(proxy.faultsApplied(), 8);
      const served = Buffer.from(
        await (await fetch(`${registry.url}/v2/resume/flaky/blobs/${blob.digest}`)).arrayBuffer(),
      );
      assert.ok(served.equals(bytes));
      assert.equal(proxy.requests.filter((r) => r.method === "POST").length, 1, "one session throughout");
    } finally {
      await client.close();
      await proxy.stop();
    }
  });

  test("a 416 on a chunk: the offset is asked and the upload goes on in the same session", async () => {
    const bytes = randomBytes(300_000);
    const blob = { digest: sha256(bytes), size: bytes.length };
    const proxy = await startFaultProxy(registry.host, [
      { method: "PATCH", times: 1, only: [3], action: { kind: "status", status: 416, body: "" } },
    ]);
    const client = await RegistryClient.connect({
      host: proxy.host,
      chunkThreshold: 100_000,
      chunkSize: 64_000,
      retry: { clock: instantClock() },
    });
    try {
      await new RepositoryClient(client, "resume/range").uploadBlob(blob, () => Readable.from([bytes]));
      assert.equal(proxy.faultsApplied(), 1);
      assert.equal(proxy.requests.filter((r) => r.method === "POST").length, 1);
      assert.equal(proxy.requests.filter((r) => r.method === "GET" && isUpload(r)).length, 1);
      const head = await fetch(`${registry.url}/v2/resume/range/blobs/${blob.digest}`, { method: "HEAD" });
      assert.equal(head.status, 200);
    } finally {
      await client.close();
      await proxy.stop();
    }
  });
});

describe("a session the registry has lost is started again", () => {
  test("a chunk cut after part of it reached the registry: distribution drops the session, a new one completes", async () => {
    const bytes = randomBytes(3_000_000);
    const blob = { digest: sha256(bytes), size: bytes.length };
    const proxy = await startFaultProxy(registry.host, [
      { method: "PATCH", times: 1, only: [2], action: { kind: "cut-after", bytes: 300_000 } },
    ]);
    const client = await RegistryClient.connect({
      host: proxy.host,
      chunkThreshold: 100_000,
      chunkSize: 1_000_000,
      retry: { clock: instantClock() },
    });
    try {
      await new RepositoryClient(client, "resume/lost").uploadBlob(blob, () => Readable.from([bytes]));
      assert.equal(proxy.faultsApplied(), 1);
      // The registry kept part of the cut chunk, so the Location's state no longer matches it: the status
      // answer is 404 BLOB_UPLOAD_INVALID, and the upload starts over in a second session.
      const statuses = proxy.requests.filter((r) => r.method === "GET" && isUpload(r));
      assert.deepEqual(
        statuses.map((r) => r.status),
        [404],
      );
      assert.equal(proxy.requests.filter((r) => r.method === "POST").length, 2);
      const served = Buffer.from(
        await (await fetch(`${registry.url}/v2/resume/lost/blobs/${blob.digest}`)).arrayBuffer(),
      );
      assert.ok(served.equals(bytes));
    } finally {
      await client.close();
      await proxy.stop();
    }
  });

  test("a position beyond what was sent is not believed: a new session", async () => {
    const bytes = randomBytes(300_000);
    const blob = { digest: sha256(bytes), size: bytes.length };
    const proxy = await startFaultProxy(registry.host, [
      { method: "PATCH", times: 1, only: [2], action: { kind: "drop-after", bytes: 1_000 } },
      // The status answer claims the whole blob arrived.
      {
        method: "GET",
        path: /\/blobs\/uploads\//,
        times: 1,
        action: { kind: "status", status: 204, headers: { range: "0-299999" }, body: "" },
      },
    ]);
    const client = await RegistryClient.connect({
      host: proxy.host,
      chunkThreshold: 100_000,
      chunkSize: 64_000,
      retry: { clock: instantClock() },
    });
    try {
      await new RepositoryClient(client, "resume/liar").uploadBlob(blob, () => Readable.from([bytes]));
      assert.equal(proxy.requests.filter((r) => r.method === "POST").length, 2);
      const head = await fetch(`${registry.url}/v2/resume/liar/blobs/${blob.digest}`, { method: "HEAD" });
      assert.equal(head.status, 200);
    } finally {
      await client.close();
      await proxy.stop();
    }
  });
});
