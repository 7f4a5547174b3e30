// The race of test servers that bind their own port: a port found free can be taken before the server
// binds it. The registry helper must then neither take the other server for its registry nor fail the
// test: it starts the registry again on another port.
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import { test } from "node:test";
import { onFreePort, PortTaken } from "../helpers/free-port.js";
import { startRegistry } from "../helpers/registry.js";

/** Another server on `port`, answering every request as a registry would (200 on /v2/). */
async function squat(port: number): Promise<Server> {
  const server = createServer((_, response) => {
    response.writeHead(200, { "Docker-Distribution-Api-Version": "registry/2.0" });
    response.end("{}");
  });
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  return server;
}

test("a registry whose port another server holds is PortTaken, not that server", async () => {
  const squatter = await squat(0);
  const address = squatter.address();
  const port = typeof address === "object" && address ? address.port : 0;
  try {
    await assert.rejects(startRegistry({ port }), PortTaken);
  } finally {
    squatter.close();
  }
});

test("a port taken between the pick and the bind: the registry starts on the next free port", async () => {
  const squatters: Server[] = [];
  const ports: number[] = [];
  const registry = await onFreePort(async (port) => {
    ports.push(port);
    // The first port is taken by another server just before the registry binds it.
    if (ports.length === 1) squatters.push(await squat(port));
    return startRegistry({ port });
  });
  try {
    assert.equal(ports.length, 2);
    assert.equal(registry.host, `127.0.0.1:${ports[1]}`);
    const response = await fetch(`${registry.url}/v2/`);
    assert.equal(response.status, 200);
    assert.ok(response.headers.get("x-buildx-step-registry"), "the registry's own answer");
  } finally {
    await registry.stop();
    for (const squatter of squatters) squatter.close();
  }
});
