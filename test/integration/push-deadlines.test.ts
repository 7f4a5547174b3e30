// Every wait has a deadline (issue 11.8): a registry that accepts TCP and never answers, and one that does
// not accept at all, end a push with default settings in well under two minutes, naming the connect
// timeout; a registry that trickles bytes is stopped by the no-progress timeout or by the push's deadline
// (PLUGIN_PUSH_TIMEOUT), which also bounds retries. Nothing is tagged; exit 1; a bad value is exit 2.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { RegistryClient } from "../../lib/registry/client.js";
import { RepositoryClient } from "../../lib/registry/repository.js";
import { runCli } from "../helpers/cli.js";
import { startFaultProxy } from "../helpers/fault-proxy.js";
import { registryTags } from "../helpers/images.js";
import { aliasSkipReason, loopbackAlias } from "../helpers/loopback-alias.js";
import { writeOciTarball } from "../helpers/oci-tarball.js";
import { makeCertificates, type RegistryServer, startRegistry } from "../helpers/registry.js";
import { startSilentServer, startUnacceptingServer } from "../helpers/silent-servers.js";
import { tempDir } from "../helpers/tmp.js";
import { startTrickleServer } from "../helpers/trickle-server.js";

let work: Awaited<ReturnType<typeof tempDir>>;
let tarball: string;
let tls: { key: Buffer; cert: Buffer };

before(async () => {
  work = await tempDir("buildx-step-deadlines-");
  tarball = (await writeOciTarball(join(work.path, "image.tar"))).path;
  const certs = makeCertificates(work.path);
  tls = { key: readFileSync(certs.key), cert: readFileSync(certs.cert) };
});
after(async () => {
  await work?.remove();
});

function push(repo: string, env: NodeJS.ProcessEnv = {}) {
  return runCli(["push", tarball, "--repo", repo], { env: { CI: "true", ...env } });
}

const alias = await loopbackAlias();

describe("dead registries, default settings", { concurrency: true }, () => {
  for (const [what, start, name] of [
    ["accepts TCP and never answers", startSilentServer, undefined],
    ["does not accept at all (blackholed)", startUnacceptingServer, undefined],
    // By a name that is not loopback: https only, no plain-HTTP fallback (the common case in CI).
    ["is named remotely, accepts TCP and never answers", startSilentServer, alias ?? "-"],
  ] as const) {
    const skip = name === "-" ? aliasSkipReason(alias) : false;
    test(`a registry that ${what}: exit 1 within two minutes, naming the connect timeout`, {
      skip,
    }, async () => {
      const server = await start();
      try {
        const host = name ? server.host.replace("127.0.0.1", name) : server.host;
        const started = Date.now();
        const result = await push(`${host}/dead/app`);
        const seconds = (Date.now() - started) / 1000;
        assert.equal(result.code, 1, result.stderr);
        assert.ok(seconds < 120, `took ${seconds} s`);
        assert.match(
          result.stderr,
          new RegExp(`no answer from ${host.replace(/\./g, "\\.")} within the 30 s connect timeout`),
        );
        assert.equal(result.stdout, "");
      } finally {
        await server.stop();
      }
    });
  }
});

describe("slow registries", () => {
  test("a byte every 3 s, a no-progress timeout of 1 s: the request is abandoned naming it", async () => {
    const server = await startTrickleServer({ intervalMs: 3_000, tls });
    try {
      const started = Date.now();
      const error = await RegistryClient.connect({
        host: server.host,
        timeouts: { noProgressMs: 1_000 },
      }).then(
        (client) => client.close(),
        (e: unknown) => e,
      );
      assert.match(String(error), /for 1 s \(the no-progress timeout\)/);
      assert.ok(Date.now() - started < 10_000);
    } finally {
      await server.stop();
    }
  });

  test("a byte every 1 s, PLUGIN_PUSH_TIMEOUT=4s: the push stops at its deadline, exit 1, no tag", async () => {
    const server = await startTrickleServer({ intervalMs: 1_000, tls });
    try {
      const started = Date.now();
      const result = await push(`${server.host}/slow/app`, { PLUGIN_PUSH_TIMEOUT: "4s" });
      const seconds = (Date.now() - started) / 1000;
      assert.equal(result.code, 1, result.stderr);
      assert.match(
        result.stderr,
        /the push did not finish within PLUGIN_PUSH_TIMEOUT=4s; nothing was published/,
      );
      assert.ok(seconds < 15, `took ${seconds} s`);
      assert.ok(server.bytesSent() >= 2, "the server did trickle");
    } finally {
      await server.stop();
    }
  });
});

describe("retries within the deadline", () => {
  let registry: RegistryServer;
  before(async () => {
    registry = await startRegistry();
  });
  after(async () => {
    await registry?.stop();
  });

  test("500s on every blob check: the retries stop at PLUGIN_PUSH_TIMEOUT=2s, not at the retry budget", async () => {
    const proxy = await startFaultProxy(registry.host, [
      { method: "HEAD", times: Number.POSITIVE_INFINITY, action: { kind: "status", status: 500 } },
    ]);
    try {
      const started = Date.now();
      const result = await push(`${proxy.host}/retries/app`, { PLUGIN_PUSH_TIMEOUT: "2s" });
      const seconds = (Date.now() - started) / 1000;
      assert.equal(result.code, 1, result.stderr);
      assert.match(result.stderr, /the push did not finish within PLUGIN_PUSH_TIMEOUT=2s/);
      assert.ok(seconds < 3.5, `took ${seconds} s`);
      assert.deepEqual(await registryTags(registry.url, "retries/app"), []);
    } finally {
      await proxy.stop();
    }
  });
});

test("a PLUGIN_PUSH_TIMEOUT that is not a duration is bad input: exit 2, nothing sent", async () => {
  const server = await startSilentServer();
  try {
    for (const [env, args] of [
      [{ PLUGIN_PUSH_TIMEOUT: "soon" }, []],
      [{}, ["--push-timeout", "10 minutes"]],
    ] as const) {
      const result = await runCli(["push", tarball, "--repo", `${server.host}/bad/app`, ...args], {
        env: { ...env },
      });
      assert.equal(result.code, 2, result.stderr);
      assert.match(result.stderr, /is not a duration: give e\.g\. 90s, 10m, 1h/);
    }
    assert.equal(server.connections(), 0);
  } finally {
    await server.stop();
  }
});

test("the client's own deadline options: a per-request connect timeout is reported by name", async () => {
  const server = await startSilentServer();
  try {
    const error = await RegistryClient.connect({ host: server.host, timeouts: { connectMs: 500 } }).then(
      async (client) => {
        await new RepositoryClient(client, "x").blobExists(`sha256:${"0".repeat(64)}`);
        await client.close();
      },
      (e: unknown) => e,
    );
    assert.match(
      String(error),
      /connecting to the registry 127\.0\.0\.1:\d+: no answer from .* within the 0\.5 s connect timeout/,
    );
  } finally {
    await server.stop();
  }
});
