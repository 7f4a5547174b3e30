/**
 * The engine connection (lib/engine/) against the real engines: the image store each reports,
 * and a tcp:// DOCKER_HOST (a loopback TCP port relayed to the engine's socket, as a remote engine would be).
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { copyFile, mkdir } from "node:fs/promises";
import { createConnection, createServer, type Server, type Socket } from "node:net";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { createServer as createTlsServer } from "node:tls";
import { connectEngine } from "../../lib/engine/engine.js";
import { engineFacts } from "../../lib/engine/info.js";
import { exitCodeOf } from "../../lib/errors.js";
import { ProtocolError } from "../../lib/protocol-error.js";
import { classicEngineHost } from "../helpers/engine.js";
import { makeCertificates } from "../helpers/registry.js";
import { tempDir } from "../helpers/tmp.js";

describe("engine connection", () => {
  let relay: Server;
  let port = 0;
  const open = new Set<Socket>();

  before(async () => {
    relay = createServer((client) => {
      const engine = createConnection("/var/run/docker.sock");
      for (const socket of [client, engine]) {
        open.add(socket);
        socket.on("close", () => open.delete(socket));
      }
      client.pipe(engine).pipe(client);
      client.on("error", () => engine.destroy());
      engine.on("error", () => client.destroy());
    });
    await new Promise<void>((resolve) => relay.listen(0, "127.0.0.1", resolve));
    const address = relay.address();
    port = typeof address === "object" && address ? address.port : 0;
  });
  after(async () => {
    // Kept-alive connections would hold close() open.
    for (const socket of open) socket.destroy();
    await new Promise((resolve) => relay?.close(resolve));
  });

  test("the default socket is the containerd store, the second engine the classic store", async () => {
    const containerd = await engineFacts(connectEngine({}));
    assert.equal(containerd.store, "containerd");
    const classic = await engineFacts(connectEngine({ DOCKER_HOST: await classicEngineHost() }));
    assert.deepEqual([classic.store, classic.driver], ["classic", "overlay2"]);
  });

  test("DOCKER_HOST=tcp://… reaches the engine over TCP, and a closed port is named", async () => {
    const facts = await engineFacts(connectEngine({ DOCKER_HOST: `tcp://127.0.0.1:${port}` }));
    assert.equal(facts.store, "containerd");
    const closed = await new Promise<number>((resolve) => {
      const probe = createServer();
      probe.listen(0, "127.0.0.1", () => {
        const a = probe.address();
        probe.close(() => resolve(typeof a === "object" && a ? a.port : 0));
      });
    });
    await assert.rejects(
      engineFacts(connectEngine({ DOCKER_HOST: `127.0.0.1:${closed}` })),
      (error: unknown) =>
        error instanceof ProtocolError &&
        exitCodeOf(error) === 1 &&
        error.message.startsWith(
          `cannot reach the Docker engine at tcp://127.0.0.1:${closed} (connect ECONNREFUSED)`,
        ),
    );
  });

  test("DOCKER_TLS_VERIFY + DOCKER_CERT_PATH: the engine's certificate is verified against ca.pem", async () => {
    const dir = await tempDir("buildx-step-engine-tls-");
    const certs = makeCertificates(dir.path);
    await mkdir(join(dir.path, "other"));
    const other = makeCertificates(join(dir.path, "other"));
    const client = join(dir.path, "client");
    const wrong = join(dir.path, "wrong");
    await mkdir(client);
    await mkdir(wrong);
    await copyFile(certs.ca, join(client, "ca.pem"));
    await copyFile(other.ca, join(wrong, "ca.pem"));
    const tlsRelay = createTlsServer(
      { cert: readFileSync(certs.cert), key: readFileSync(certs.key) },
      (socket) => {
        const engine = createConnection("/var/run/docker.sock");
        for (const end of [socket, engine]) {
          open.add(end);
          end.on("close", () => open.delete(end));
          end.on("error", () => end.destroy());
        }
        socket.pipe(engine).pipe(socket);
      },
    );
    await new Promise<void>((resolve) => tlsRelay.listen(0, "127.0.0.1", resolve));
    const address = tlsRelay.address();
    const tlsPort = typeof address === "object" && address ? address.port : 0;
    try {
      const env = {
        DOCKER_HOST: `tcp://127.0.0.1:${tlsPort}`,
        DOCKER_TLS_VERIFY: "1",
        DOCKER_CERT_PATH: client,
      };
      assert.equal((await engineFacts(connectEngine(env))).store, "containerd");
      await assert.rejects(
        engineFacts(connectEngine({ ...env, DOCKER_CERT_PATH: wrong })),
        (error: unknown) =>
          error instanceof ProtocolError &&
          exitCodeOf(error) === 1 &&
          error.message.startsWith(`cannot reach the Docker engine at tcp://127.0.0.1:${tlsPort} (`) &&
          error.message.includes(`DOCKER_CERT_PATH (ca.pem, cert.pem, key.pem in ${wrong})`),
      );
    } finally {
      for (const socket of open) socket.destroy();
      await new Promise((resolve) => tlsRelay.close(resolve));
      await dir.remove();
    }
  });
});
