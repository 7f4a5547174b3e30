// Push-only through a proxy that injects faults in front of a real registry: dropped connections in the
// middle of an upload, 500s, 429 with Retry-After. Within the retry budget the push succeeds (and the
// proxy saw the faults, so the retries happened); beyond it the push fails and no tag is written.
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { join } from "node:path";
import { Readable } from "node:stream";
import { after, before, describe, test } from "node:test";
import type { PushPlan } from "../../lib/archive/types.js";
import { RegistryClient } from "../../lib/registry/client.js";
import { BlobVerificationError } from "../../lib/registry/errors.js";
import { pushImage } from "../../lib/registry/push.js";
import { RepositoryClient } from "../../lib/registry/repository.js";
import { runCli } from "../helpers/cli.js";
import { type FaultProxy, startFaultProxy } from "../helpers/fault-proxy.js";
import { buildTarball, registryManifest, registryTags, sampleContext } from "../helpers/images.js";
import { makeImage } from "../helpers/random-image.js";
import { type RegistryServer, startRegistry } from "../helpers/registry.js";
import { instantClock } from "../helpers/retry-clock.js";
import { tempDir } from "../helpers/tmp.js";

let work: Awaited<ReturnType<typeof tempDir>>;
let registry: RegistryServer;
let tarball: string;
let digest: string;

before(async () => {
  work = await tempDir("buildx-step-faults-");
  registry = await startRegistry();
  const context = await sampleContext(join(work.path, "ctx"));
  tarball = await buildTarball({ context, dest: join(work.path, "image.tar"), format: "docker" });
  const inspected = await runCli(["inspect", tarball, "--json"]);
  digest = (JSON.parse(inspected.stdout) as { images: { digest: string }[] }).images[0]?.digest ?? "";
});
after(async () => {
  await registry?.stop();
  await work?.remove();
});

/** Pushes the fixture through `proxy` into `repository` with the CLI. */
function push(proxy: FaultProxy, repository: string, tags = "v1,v2") {
  return runCli(["--json"], {
    env: {
      PLUGIN_PUSH_ONLY: "true",
      PLUGIN_SOURCE_TAR_PATH: tarball,
      PLUGIN_REPO: `${proxy.host}/${repository}`,
      PLUGIN_TAGS: tags,
      CI: "true",
    },
  });
}

describe("faults within the retry budget", () => {
  test("a dropped upload, 500s and a 429 with Retry-After: the push succeeds at the tarball's digest", async () => {
    const proxy = await startFaultProxy(registry.host, [
      // The busybox layer (about 1 MB) breaks after 100 kB, once.
      { method: "PUT", path: /\/blobs\/uploads\//, times: 1, action: { kind: "drop-after", bytes: 100_000 } },
      // Two 500s on starting an upload.
      { method: "POST", path: /\/blobs\/uploads\/$/, times: 2, action: { kind: "status", status: 500 } },
      // A 429 asking for 1 s on a blob check.
      {
        method: "HEAD",
        path: /\/blobs\/sha256:/,
        times: 1,
        action: { kind: "status", status: 429, headers: { "retry-after": "1" } },
      },
      // A 503 on the first manifest write.
      { method: "PUT", path: /\/manifests\//, times: 1, action: { kind: "status", status: 503 } },
    ]);
    try {
      const started = Date.now();
      const result = await push(proxy, "faults/ok");
      assert.equal(result.code, 0, result.stderr);
      assert.equal(proxy.faultsApplied(), 5, JSON.stringify(proxy.requests, null, 1));
      assert.ok(Date.now() - started >= 1000, "the Retry-After of 1 s was waited");
      assert.match(result.stderr, /retrying/);
      assert.equal((JSON.parse(result.stdout) as { digest: string }).digest, digest);
      for (const tag of ["v1", "v2"]) {
        assert.equal((await registryManifest(`${registry.host}/faults/ok:${tag}`)).digest, digest);
      }
      // The dropped upload was started again from its first byte in a new session.
      const drops = proxy.requests.filter((r) => r.fault?.startsWith("drop-after"));
      assert.equal(drops.length, 1);
      const uploadPuts = proxy.requests.filter(
        (r) => r.method === "PUT" && r.path.includes("/blobs/uploads/"),
      );
      assert.ok(uploadPuts.some((r) => r.at > (drops[0]?.at ?? 0) && r.status === 201));
    } finally {
      await proxy.stop();
    }
  });

  test("chunked uploads: a connection dropped mid-chunk goes on in the same session, from the registry's offset", async () => {
    const proxy = await startFaultProxy(registry.host, [
      {
        method: "PATCH",
        path: /\/blobs\/uploads\//,
        times: 2,
        action: { kind: "drop-after", bytes: 30_000 },
      },
    ]);
    const bytes = randomBytes(300_000);
    const layerDigest = `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
    const config = Buffer.from(
      JSON.stringify({ os: "linux", architecture: "amd64", rootfs: { type: "layers", diff_ids: [] } }),
    );
    const configDigest = `sha256:${createHash("sha256").update(config).digest("hex")}`;
    const manifest = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: "application/vnd.oci.image.manifest.v1+json",
        config: {
          mediaType: "application/vnd.oci.image.config.v1+json",
          digest: configDigest,
          size: config.length,
        },
        layers: [
          { mediaType: "application/vnd.oci.image.layer.v1.tar", digest: layerDigest, size: bytes.length },
        ],
      }),
    );
    const manifestDigest = `sha256:${createHash("sha256").update(manifest).digest("hex")}`;
    const plan: PushPlan = {
      blobs: [
        { mediaType: "application/vnd.oci.image.config.v1+json", digest: configDigest, size: config.length },
        { mediaType: "application/vnd.oci.image.layer.v1.tar", digest: layerDigest, size: bytes.length },
      ],
      manifests: [
        {
          descriptor: {
            mediaType: "application/vnd.oci.image.manifest.v1+json",
            digest: manifestDigest,
            size: manifest.length,
          },
          bytes: manifest,
        },
      ],
    };
    const client = await RegistryClient.connect({
      host: proxy.host,
      chunkThreshold: 100_000,
      chunkSize: 64_000,
      retry: { clock: instantClock() },
    });
    try {
      const result = await pushImage({
        repository: new RepositoryClient(client, "faults/chunked"),
        tags: ["v1"],
        plan,
        openBlob: (d) => Readable.from([d === layerDigest ? bytes : config]),
      });
      assert.equal(result.digest, manifestDigest);
      assert.equal(proxy.faultsApplied(), 2);
      const patches = proxy.requests.filter((r) => r.method === "PATCH" && r.status === 202);
      assert.equal(patches.length, 5, "300 kB in chunks of 64 kB, after two broken attempts");
      // One session for the layer (the config goes in one PUT of its own), asked for its offset after each drop.
      const uploads = (method: string) =>
        proxy.requests.filter((r) => r.method === method && r.path.includes("/blobs/uploads/"));
      assert.equal(uploads("POST").length, 2);
      assert.deepEqual(
        uploads("GET").map((r) => r.status),
        [204, 204],
      );
      const served = Buffer.from(
        await (await fetch(`${registry.url}/v2/faults/chunked/blobs/${layerDigest}`)).arrayBuffer(),
      );
      assert.ok(served.equals(bytes));
    } finally {
      await client.close();
      await proxy.stop();
    }
  });
});

describe("faults beyond the retry budget", () => {
  test("500s on every manifest write: exit 1, no tag written", async () => {
    const proxy = await startFaultProxy(registry.host, [
      {
        method: "PUT",
        path: /\/manifests\//,
        times: Number.POSITIVE_INFINITY,
        action: { kind: "status", status: 500 },
      },
    ]);
    try {
      const result = await push(proxy, "faults/manifest");
      assert.equal(result.code, 1, result.stderr);
      assert.match(result.stderr, /HTTP 500/);
      assert.equal(
        proxy.requests.filter((r) => r.fault === "status 500").length,
        5,
        "every attempt of the budget",
      );
      assert.deepEqual(await registryTags(registry.url, "faults/manifest"), []);
      // --json: no result, but the failure as one JSON object (exit 1: the registry's fault, no setting).
      const { error } = JSON.parse(result.stdout);
      assert.equal(error.exitCode, 1);
      assert.match(error.message, /HTTP 500/);
      assert.equal(error.setting, undefined);
    } finally {
      await proxy.stop();
    }
  });

  test("connections dropped on every upload: exit 1, no tag written", async () => {
    const proxy = await startFaultProxy(registry.host, [
      {
        method: "PUT",
        path: /\/blobs\/uploads\//,
        times: Number.POSITIVE_INFINITY,
        action: { kind: "drop-after", bytes: 1 },
      },
    ]);
    try {
      const result = await push(proxy, "faults/upload");
      assert.equal(result.code, 1, result.stderr);
      assert.deepEqual(await registryTags(registry.url, "faults/upload"), []);
      assert.ok(proxy.faultsApplied() >= 5);
    } finally {
      await proxy.stop();
    }
  });

  test("a 429 asking for longer than the budget fails at once", async () => {
    const proxy = await startFaultProxy(registry.host, [
      {
        method: "HEAD",
        times: Number.POSITIVE_INFINITY,
        action: { kind: "status", status: 429, headers: { "retry-after": "3600" } },
      },
    ]);
    try {
      const started = Date.now();
      const result = await push(proxy, "faults/throttled");
      assert.equal(result.code, 1, result.stderr);
      assert.match(result.stderr, /HTTP 429/);
      assert.ok(Date.now() - started < 30_000);
      assert.deepEqual(await registryTags(registry.url, "faults/throttled"), []);
    } finally {
      await proxy.stop();
    }
  });

  test("a failure after some tags were written says which were", async () => {
    const proxy = await startFaultProxy(registry.host, [
      {
        method: "PUT",
        path: /\/manifests\/v2$/,
        times: Number.POSITIVE_INFINITY,
        action: { kind: "status", status: 500 },
      },
    ]);
    try {
      const result = await push(proxy, "faults/partial", "v1,v2,v3");
      assert.equal(result.code, 1, result.stderr);
      assert.match(
        result.stderr,
        /tags written before the failure \(they now point at sha256:[0-9a-f]{64}\): v1; not written: v2, v3/,
      );
      assert.deepEqual(await registryTags(registry.url, "faults/partial"), ["v1"]);
    } finally {
      await proxy.stop();
    }
  });
});

describe("a mount the registry refuses", () => {
  test("a blob planned as a mount is verified before any blob is committed (issue 11.3)", async () => {
    const image = makeImage([6_000, 5_000]);
    const lent = image.plan.blobs[2];
    assert.ok(lent);
    // The source repository really holds the blob, so the push plans a mount for it.
    const direct = await RegistryClient.connect({ host: registry.host });
    await new RepositoryClient(direct, "mount/source").uploadBlob(lent, () => image.openBlob(lent.digest));
    await direct.close();
    // ...but the registry refuses the mount: 202 and an upload session instead (distribution spec).
    const proxy = await startFaultProxy(registry.host, [
      {
        method: "POST",
        path: /[?&]mount=/,
        times: Number.POSITIVE_INFINITY,
        action: {
          kind: "status",
          status: 202,
          headers: { location: "/v2/mount/target/blobs/uploads/refused-mount" },
          body: "",
        },
      },
    ]);
    const client = await RegistryClient.connect({ host: proxy.host, retry: { clock: instantClock() } });
    try {
      const corrupted = Buffer.from(image.blobs.get(lent.digest) ?? []);
      corrupted[100] = (corrupted[100] ?? 0) ^ 0xff;
      const error = await pushImage({
        repository: new RepositoryClient(client, "mount/target", ["mount/source"]),
        tags: ["v1"],
        plan: image.plan,
        openBlob: (digest) => (digest === lent.digest ? Readable.from([corrupted]) : image.openBlob(digest)),
      }).then(
        () => undefined,
        (e: unknown) => e,
      );
      assert.ok(error instanceof BlobVerificationError, String(error));
      assert.equal(error.digest, lent.digest);
      // Nothing was uploaded, committed or tagged: the corruption was found in phase 1.
      const uploads = proxy.requests.filter(
        (r) => (r.method === "PUT" || r.method === "PATCH") && r.path.includes("/blobs/uploads/"),
      );
      assert.deepEqual(uploads, []);
      for (const blob of image.plan.blobs) {
        const head = await fetch(`${registry.url}/v2/mount/target/blobs/${blob.digest}`, { method: "HEAD" });
        assert.equal(head.status, 404, `${blob.digest} must not be in the target`);
      }
      assert.deepEqual(await registryTags(registry.url, "mount/target"), []);
    } finally {
      await client.close();
      await proxy.stop();
    }
  });
});

describe("upload sessions opened while a small blob is verified", () => {
  test("one POST per uploaded blob; a corrupted blob cancels every session opened, nothing is uploaded", async () => {
    // Several blobs at once (the default concurrency): the corrupted one fails while the others' sessions
    // are being opened, and those must come back to be cancelled too.
    const image = makeImage([9_000, 7_000, 3_000]);
    const bad = image.plan.blobs[3];
    assert.ok(bad);
    const proxy = await startFaultProxy(registry.host);
    const client = await RegistryClient.connect({ host: proxy.host, retry: { clock: instantClock() } });
    try {
      const corrupted = Buffer.from(image.blobs.get(bad.digest) ?? []);
      corrupted[10] = (corrupted[10] ?? 0) ^ 0xff;
      const error = await pushImage({
        repository: new RepositoryClient(client, "sessions/corrupt"),
        tags: ["v1"],
        plan: image.plan,
        openBlob: (digest) => (digest === bad.digest ? Readable.from([corrupted]) : image.openBlob(digest)),
      }).then(
        () => undefined,
        (e: unknown) => e,
      );
      assert.ok(error instanceof BlobVerificationError, String(error));
      const opened = proxy.requests.filter((r) => r.method === "POST" && r.status === 202);
      const cancelled = proxy.requests.filter(
        (r) => r.method === "DELETE" && r.path.includes("/blobs/uploads/"),
      );
      assert.ok(opened.length > 0, "sessions were opened while the blobs were verified");
      assert.equal(cancelled.length, opened.length, "every opened session is cancelled");
      const puts = proxy.requests.filter((r) => r.method === "PUT");
      assert.deepEqual(puts, [], "no blob was uploaded and no tag written");
      assert.deepEqual(await registryTags(registry.url, "sessions/corrupt"), []);

      proxy.requests.length = 0;
      const pushed = await pushImage({
        repository: new RepositoryClient(client, "sessions/good"),
        tags: ["v1"],
        plan: image.plan,
        openBlob: (digest) => image.openBlob(digest),
      });
      assert.equal(pushed.blobsUploaded, image.plan.blobs.length);
      const posts = proxy.requests.filter((r) => r.method === "POST");
      assert.equal(posts.length, image.plan.blobs.length, "one session per blob, used by its PUT");
      assert.equal((await registryManifest(`${registry.host}/sessions/good:v1`)).digest, pushed.digest);
    } finally {
      await client.close();
      await proxy.stop();
    }
  });

  test("a session the registry lost before its PUT: the blob goes in a new one", async () => {
    const image = makeImage([4_000]);
    // The first blob PUT finds its session gone (404 BLOB_UPLOAD_UNKNOWN, as after the registry's purge).
    const proxy = await startFaultProxy(registry.host, [
      {
        method: "PUT",
        path: /\/blobs\/uploads\//,
        times: 1,
        action: {
          kind: "status",
          status: 404,
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ errors: [{ code: "BLOB_UPLOAD_UNKNOWN", message: "blob upload unknown" }] }),
        },
      },
    ]);
    const client = await RegistryClient.connect({ host: proxy.host, retry: { clock: instantClock() } });
    try {
      const pushed = await pushImage({
        repository: new RepositoryClient(client, "sessions/lost"),
        tags: ["v1"],
        plan: image.plan,
        openBlob: (digest) => image.openBlob(digest),
      });
      assert.equal(proxy.faultsApplied(), 1);
      assert.equal(pushed.blobsUploaded, image.plan.blobs.length);
      assert.equal((await registryManifest(`${registry.host}/sessions/lost:v1`)).digest, pushed.digest);
    } finally {
      await client.close();
      await proxy.stop();
    }
  });
});
