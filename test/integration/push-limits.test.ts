// Every answer of a registry is read up to a limit for its kind (issue 11.9): a server that streams an
// endless token response or /v2/ answer is cut off at the limit, the request aborted, the error names
// the limit, and the memory of the process stays small.
import assert from "node:assert/strict";
import { test } from "node:test";
import { RegistryClient } from "../../lib/registry/client.js";
import { RepositoryClient } from "../../lib/registry/repository.js";
import { startEndlessBodyServer } from "../helpers/endless-body-server.js";

const MiB = 1024 * 1024;

/** Runs `body` while sampling the process's resident memory; returns the peak growth in bytes. */
async function peakRssGrowth(body: () => Promise<void>): Promise<number> {
  global.gc?.();
  const start = process.memoryUsage.rss();
  let peak = start;
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss());
  }, 20);
  try {
    await body();
  } finally {
    clearInterval(timer);
    peak = Math.max(peak, process.memoryUsage.rss());
  }
  return peak - start;
}

test("an endless token response is cut off at 1 MiB: the login fails naming the limit, memory stays small", async () => {
  // 1 GiB at most, so that a client without the limit still ends (with a large memory peak).
  const server = await startEndlessBodyServer({ endless: "token", capBytes: 1024 * MiB });
  let error: unknown;
  try {
    const growth = await peakRssGrowth(async () => {
      const client = await RegistryClient.connect({ host: server.host, retry: { attempts: 1 } });
      try {
        await new RepositoryClient(client, "limits/app").blobExists(`sha256:${"0".repeat(64)}`);
      } catch (caught) {
        error = caught;
      } finally {
        await client.close();
      }
    });
    assert.match(String(error), /larger than 1 MiB, the limit for a token response/);
    assert.ok(growth < 64 * MiB, `resident memory grew by ${Math.round(growth / MiB)} MiB`);
    // The client hung up soon after the limit: only socket buffers' worth more was sent.
    assert.ok(server.bytesSent() < 64 * MiB, `the server sent ${Math.round(server.bytesSent() / MiB)} MiB`);
  } finally {
    await server.stop();
  }
});

test("an endless /v2/ answer is cut off at 64 KiB: connecting fails naming the limit", async () => {
  const server = await startEndlessBodyServer({ endless: "ping", capBytes: 1024 * MiB });
  try {
    const error = await RegistryClient.connect({ host: server.host, retry: { attempts: 1 } }).then(
      (client) => client.close(),
      (e: unknown) => e,
    );
    assert.match(String(error), /larger than 64 KiB, the limit for a \/v2\/ answer/);
    assert.ok(server.bytesSent() < 64 * MiB, `the server sent ${Math.round(server.bytesSent() / MiB)} MiB`);
  } finally {
    await server.stop();
  }
});
