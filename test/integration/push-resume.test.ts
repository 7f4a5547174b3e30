// Resumable uploads (issue 16.3): after a broken request the push asks the registry how far the upload
// session got and sends the rest from there; only a session the registry has lost is started again. A
// real registry (distribution 2.8) behind the fault proxy, which counts every byte of every request body.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { Readable } from "node:stream";
import { after, before, describe, test } from "node:test";
import { RegistryClient } from "../../lib/registry/client.js";
import { RepositoryClient } from "../../lib/registry/repository.js";
import { type SeenRequest, startFaultProxy } from "../helpers/fault-proxy.js";
import { sha256 } from "../helpers/random-image.js";
import { type RegistryServer, startRegistry } from "../helpers/registry.js";
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
describe("a dropped connection goes on where the registry got to", () => {
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
      retry: { baseDelayMs: 5, maxDelayMs: 20 },
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
      retry: { baseDelayMs: 5 },
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
      retry: { baseDelayMs: 5 },
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
      retry: { baseDelayMs: 5 },
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
