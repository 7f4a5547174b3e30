// Retry happens in one layer: a token server that answers 503 is asked at most the retry budget's number
// of times for one step, not that number squared (a token fetch retried inside a retried step). Fault
// tests give the retries a clock that does not wait; one test here waits for real, with production's values.
import assert from "node:assert/strict";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { test } from "node:test";
import { RegistryClient } from "../../lib/registry/client.js";
import { RegistryHttpError } from "../../lib/registry/errors.js";
import { RepositoryClient } from "../../lib/registry/repository.js";
import { defaultRetryPolicy, RetryBudget } from "../../lib/registry/retry.js";
import { instantClock } from "../helpers/retry-clock.js";

test("a token server answering 503: one blob check asks it the retry budget's attempts, once", async () => {
  const requests: string[] = [];
  const server = createServer((request, response) => {
    const path = new URL(request.url ?? "/", "http://x").pathname;
    requests.push(`${request.method} ${path}`);
    if (path === "/v2/") {
      const { port } = server.address() as AddressInfo;
      response.writeHead(401, {
        "www-authenticate": `Bearer realm="http://127.0.0.1:${port}/token",service="test"`,
      });
      response.end();
      return;
    }
    response.writeHead(path === "/token" ? 503 : 500);
    response.end();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  const clock = instantClock();
  let client: RegistryClient | undefined;
  try {
    client = await RegistryClient.connect({ host: `127.0.0.1:${port}`, retry: { clock } });
    const error = await new RepositoryClient(client, "team/app").blobExists(`sha256:${"a".repeat(64)}`).then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(error instanceof RegistryHttpError && error.status === 503, String(error));
    const count = (what: string) => requests.filter((r) => r === what).length;
    assert.equal(count("GET /v2/"), 1);
    assert.equal(count("GET /token"), defaultRetryPolicy.attempts, requests.join(", "));
    assert.equal(requests.length, 1 + defaultRetryPolicy.attempts, "the registry itself was never asked");
    // Production's backoff between them: 250 ms doubling, with up to 50% jitter off.
    assert.equal(clock.waits.length, defaultRetryPolicy.attempts - 1);
    for (const [index, wait] of clock.waits.entries()) {
      const full = defaultRetryPolicy.baseDelayMs * 2 ** index;
      assert.ok(wait >= full / 2 && wait <= full, `wait ${index + 1}: ${wait} ms`);
    }
  } finally {
    await client?.close();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

test("production's retries: 5 attempts within 2 minutes, and the backoff is really waited", async () => {
  assert.deepEqual(defaultRetryPolicy, {
    attempts: 5,
    baseDelayMs: 250,
    maxDelayMs: 8_000,
    budgetMs: 120_000,
    timeoutAttempts: 2,
  });
  const delays: number[] = [];
  const budget = new RetryBudget(defaultRetryPolicy, { onRetry: (notice) => delays.push(notice.delayMs) });
  const started = performance.now();
  await budget.next(new RegistryHttpError("check of blob", 503, []));
  const waited = performance.now() - started;
  assert.ok(delays[0] !== undefined && delays[0] >= 125 && delays[0] <= 250, String(delays));
  assert.ok(waited >= (delays[0] ?? 0) - 1, `waited ${waited} ms for a backoff of ${delays[0]} ms`);
});

test("an instant clock keeps the time budget: a Retry-After of 50 s is honoured twice, not a third time", async () => {
  const clock = instantClock();
  const budget = new RetryBudget({ ...defaultRetryPolicy, clock });
  const throttled = new RegistryHttpError("check of blob", 429, [], { retryAfterMs: 50_000 });
  await budget.next(throttled);
  await budget.next(throttled);
  await assert.rejects(budget.next(throttled), /HTTP 429/);
  assert.deepEqual(clock.waits, [50_000, 50_000]);
});
