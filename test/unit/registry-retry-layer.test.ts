// Retry happens in one layer: a token server that answers 503 is asked at most the retry budget's number
// of times for one step, not that number squared (a token fetch retried inside a retried step).
import assert from "node:assert/strict";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { test } from "node:test";
import { RegistryClient } from "../../lib/registry/client.js";
import { RegistryHttpError } from "../../lib/registry/errors.js";
import { RepositoryClient } from "../../lib/registry/repository.js";
import { defaultRetryPolicy } from "../../lib/registry/retry.js";

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
  const client = await RegistryClient.connect({
    host: `127.0.0.1:${port}`,
    retry: { baseDelayMs: 1, maxDelayMs: 2 },
  });
  try {
    const error = await new RepositoryClient(client, "team/app").blobExists(`sha256:${"a".repeat(64)}`).then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(error instanceof RegistryHttpError && error.status === 503, String(error));
    const count = (what: string) => requests.filter((r) => r === what).length;
    assert.equal(count("GET /v2/"), 1);
    assert.equal(count("GET /token"), defaultRetryPolicy.attempts, requests.join(", "));
    assert.equal(requests.length, 1 + defaultRetryPolicy.attempts, "the registry itself was never asked");
  } finally {
    await client.close();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});
