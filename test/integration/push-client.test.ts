// The registry client against a real docker-registry on loopback (no engine needed): blobs made here,
// uploaded monolithic and in chunks, verified while they stream, manifests written children first,
// anonymous, Basic over TLS with a private CA, and a second push that finds everything in place.
import assert from "node:assert/strict";
import { Readable } from "node:stream";
import { after, before, describe, test } from "node:test";
import { exitCodeOf } from "../../lib/errors.js";
import { withSettingHints } from "../../lib/modes/setting-hints.js";
import type { ProgressEvent } from "../../lib/progress/events.js";
import { RegistryClient } from "../../lib/registry/client.js";
import { BlobVerificationError } from "../../lib/registry/errors.js";
import { pushImage } from "../../lib/registry/push.js";
import { RepositoryClient } from "../../lib/registry/repository.js";
import { registryManifest, registryTags } from "../helpers/images.js";
import { makeImage, sha256 } from "../helpers/random-image.js";
import { type RegistryServer, startRegistry } from "../helpers/registry.js";

describe("plain registry, anonymous", () => {
  let registry: RegistryServer;
  before(async () => {
    registry = await startRegistry();
  });
  after(async () => {
    await registry?.stop();
  });

  test("pushes an image (one blob chunked) and a second push skips every blob", async () => {
    const client = await RegistryClient.connect({
      host: registry.host,
      chunkThreshold: 50_000,
      chunkSize: 20_000,
    });
    assert.equal(client.base.protocol, "http:", "a loopback registry answers over plain HTTP");
    const image = makeImage([70_001, 3_000]);
    const events: ProgressEvent[] = [];
    const repository = new RepositoryClient(client, "unit/app");
    const first = await pushImage({
      repository,
      tags: ["v1", "latest"],
      plan: image.plan,
      openBlob: image.openBlob,
      progress: (e) => events.push(e),
    });
    assert.equal(first.digest, image.digest);
    assert.deepEqual(first.tags, ["v1", "latest"]);
    assert.equal(first.blobsUploaded, 3);
    assert.equal(first.blobsSkipped, 0);
    assert.equal(first.bytesUploaded, 70_001 + 3_000 + (image.plan.blobs[0]?.size ?? 0));
    assert.equal((await registryManifest(`${registry.host}/unit/app:v1`)).digest, image.digest);
    assert.deepEqual((await registryTags(registry.url, "unit/app")).sort(), ["latest", "v1"]);
    // The chunked blob's bytes are exactly the source's.
    const big = image.plan.blobs.find((b) => b.size === 70_001);
    const served = Buffer.from(
      await (await fetch(`${registry.url}/v2/unit/app/blobs/${big?.digest}`)).arrayBuffer(),
    );
    assert.equal(sha256(served), big?.digest);
    assert.ok(events.some((e) => e.type === "blob-progress" && e.current === 70_001));
    assert.deepEqual(
      events.filter((e) => e.type === "manifest").map((e) => (e.type === "manifest" ? e.reference : "")),
      [`${registry.host}/unit/app:v1`, `${registry.host}/unit/app:latest`],
    );

    const second = await pushImage({ repository, tags: ["v2"], plan: image.plan, openBlob: image.openBlob });
    assert.equal(second.blobsSkipped, 3);
    assert.equal(second.bytesUploaded, 0);
    assert.equal(await repository.manifestDigest("v2"), image.digest);
    await client.close();
  });

  test("a blob known in another repository is mounted, not uploaded (but read and verified first)", async () => {
    const client = await RegistryClient.connect({ host: registry.host });
    const image = makeImage([5_000]);
    await pushImage({
      repository: new RepositoryClient(client, "unit/source"),
      tags: ["v1"],
      plan: image.plan,
      openBlob: image.openBlob,
    });
    const reads: string[] = [];
    const result = await pushImage({
      repository: new RepositoryClient(client, "unit/target", ["unit/source"]),
      tags: ["v1"],
      plan: image.plan,
      // Read once each, through the verifier: a refused mount would upload these bytes.
      openBlob: (digest) => {
        reads.push(digest);
        return image.openBlob(digest);
      },
    });
    assert.deepEqual(reads.sort(), image.plan.blobs.map((b) => b.digest).sort());
    assert.equal(result.blobsMounted, 2);
    assert.equal(result.bytesUploaded, 0);
    assert.equal((await registryManifest(`${registry.host}/unit/target:v1`)).digest, image.digest);
    await client.close();
  });

  for (const [kind, threshold] of [
    ["monolithic", 1_000_000],
    ["chunked", 1_000],
  ] as const) {
    test(`a corrupted blob (${kind}) stops the push: bad input, the registry unchanged`, async () => {
      const client = await RegistryClient.connect({
        host: registry.host,
        chunkThreshold: threshold,
        chunkSize: 4_000,
      });
      // The corrupted layer is the smallest, so the good ones are done (staged or read) before it fails.
      const image = makeImage([10_000, 30_000, 20_000]);
      const layer = image.plan.blobs[1];
      assert.ok(layer);
      const repository = new RepositoryClient(client, `unit/corrupt-${kind}`);
      const error = await pushImage({
        repository,
        tags: ["v1"],
        plan: image.plan,
        openBlob: (digest) => {
          if (digest !== layer.digest) return image.openBlob(digest);
          const bytes = Buffer.from(image.blobs.get(digest) ?? []);
          bytes[9_999] = (bytes[9_999] ?? 0) ^ 0xff; // the very last byte
          return Readable.from([bytes.subarray(0, 5_000), bytes.subarray(5_000)]);
        },
      }).catch((e: unknown) => e);
      assert.ok(error instanceof BlobVerificationError, String(error));
      assert.equal(exitCodeOf(error), 2);
      assert.match(error.message, new RegExp(layer.digest));
      for (const blob of image.plan.blobs) assert.equal(await repository.blobExists(blob.digest), false);
      assert.deepEqual(await registryTags(registry.url, `unit/corrupt-${kind}`), []);
      const catalog = (await (await fetch(`${registry.url}/v2/_catalog`)).json()) as {
        repositories: string[];
      };
      assert.ok(!catalog.repositories.includes(`unit/corrupt-${kind}`), "the repository does not exist");
      await client.close();
    });
  }

  test("a blob shorter than its size is refused", async () => {
    const client = await RegistryClient.connect({ host: registry.host });
    const image = makeImage([2_000]);
    const layer = image.plan.blobs[1];
    assert.ok(layer);
    const repository = new RepositoryClient(client, "unit/short");
    await assert.rejects(
      repository.uploadBlob(layer, () =>
        Readable.from([image.blobs.get(layer.digest)?.subarray(0, 1_500) ?? Buffer.alloc(0)]),
      ),
      /only 1500 of its 2000 bytes/,
    );
    assert.equal(await repository.blobExists(layer.digest), false);
    await client.close();
  });
});

describe("htpasswd + TLS registry", () => {
  let registry: RegistryServer;
  const auth = { username: "pusher", password: "s3cret-pass" };
  before(async () => {
    registry = await startRegistry({ auth, tls: true });
  });
  after(async () => {
    await registry?.stop();
  });

  test("with the CA and the login, the push succeeds over HTTPS", async () => {
    const client = await RegistryClient.connect({
      host: registry.host,
      caFile: registry.caFile,
      credentials: async (host) => (host === registry.host ? auth : undefined),
    });
    assert.equal(client.base.protocol, "https:");
    const image = makeImage([1_234]);
    const result = await pushImage({
      repository: new RepositoryClient(client, "secure/app"),
      tags: ["v1"],
      plan: image.plan,
      openBlob: image.openBlob,
    });
    assert.equal(result.digest, image.digest);
    const served = await registryManifest(`${registry.host}/secure/app:v1`, {
      creds: `${auth.username}:${auth.password}`,
    });
    assert.equal(served.digest, image.digest);
    await client.close();
  });

  test("without the CA, a loopback registry that serves TLS is still found over HTTPS (asked over HTTP first)", async () => {
    const client = await RegistryClient.connect({
      host: registry.host,
      credentials: async (host) => (host === registry.host ? auth : undefined),
    });
    assert.equal(client.base.protocol, "https:", "docker's rule: a loopback registry is not verified");
    const image = makeImage([567]);
    const result = await pushImage({
      repository: new RepositoryClient(client, "secure/no-ca"),
      tags: ["v1"],
      plan: image.plan,
      openBlob: image.openBlob,
    });
    assert.equal(result.digest, image.digest);
    await client.close();
  });

  test("a wrong password fails with the registry's words and no secret", async () => {
    const client = await RegistryClient.connect({
      host: registry.host,
      caFile: registry.caFile,
      credentials: async () => ({ username: "pusher", password: "wrong-password" }),
    });
    const image = makeImage([100]);
    const error = await pushImage({
      repository: new RepositoryClient(client, "secure/app"),
      tags: ["v1"],
      plan: image.plan,
      openBlob: image.openBlob,
      // The client says whose login was refused; the run names the settings (lib/modes/setting-hints.ts).
    }).catch((e: unknown) => withSettingHints(e));
    assert.ok(error instanceof Error);
    assert.match(error.message, /HTTP 401/);
    assert.match(error.message, /PLUGIN_USERNAME/);
    assert.doesNotMatch(error.message, /wrong-password/);
    await client.close();
  });

  test("anonymous access is refused with a hint to log in", async () => {
    const client = await RegistryClient.connect({ host: registry.host, caFile: registry.caFile });
    await assert.rejects(
      new RepositoryClient(client, "secure/app").blobExists(`sha256:${"0".repeat(64)}`),
      /HTTP 401/,
    );
    await client.close();
  });

  test("a certificate from an unknown CA is refused with a hint", async () => {
    // The client says what failed; the run names the setting (lib/modes/setting-hints.ts).
    await assert.rejects(
      RegistryClient.connect({
        host: `localhost:${registry.host.split(":")[1]}`,
        caFile: "/etc/ssl/certs/ca-certificates.crt",
      }).catch((error: unknown) => {
        throw withSettingHints(error);
      }),
      /PLUGIN_REGISTRY_CA/,
    );
  });
});
