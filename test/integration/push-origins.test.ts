// Credentials belong to the origin that answered /v2/ (issues 11.5, 11.6): a registry front that sends
// uploads and blob reads to another origin (as object storage does) never gets the login forwarded
// there; https never continues on http; a 401 from the other origin does not touch the login; and a
// token realm on plain http gets no password.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { exitCodeOf } from "../../lib/errors.js";
import { ProtocolError } from "../../lib/protocol-error.js";
import { RegistryClient } from "../../lib/registry/client.js";
import { pushImage } from "../../lib/registry/push.js";
import { RepositoryClient } from "../../lib/registry/repository.js";
import { runCli } from "../helpers/cli.js";
import { registryManifest, registryTags } from "../helpers/images.js";
import { writeOciTarball } from "../helpers/oci-tarball.js";
import { makeImage } from "../helpers/random-image.js";
import { startRedirectingRegistry } from "../helpers/redirecting-registry.js";
import { makeCertificates, type RegistryServer, startRegistry } from "../helpers/registry.js";
import { tempDir } from "../helpers/tmp.js";

const login = { username: "origin-user", password: "origin-pass-4711" };
const credentials = async () => login;

let work: Awaited<ReturnType<typeof tempDir>>;
let registry: RegistryServer;

before(async () => {
  work = await tempDir("buildx-step-origins-");
  registry = await startRegistry();
});
after(async () => {
  await registry?.stop();
  await work?.remove();
});

function stopServer(server: Server): void {
  server.closeAllConnections();
  server.close();
}

/** A server on loopback that records the requests it gets and answers 404. */
async function recordingServer(): Promise<{ url: string; seen: string[]; server: Server }> {
  const seen: string[] = [];
  const server = createServer((req, res) => {
    seen.push(`${req.method} ${req.url} ${req.headers.authorization ? "with" : "without"} authorization`);
    req.resume();
    res.writeHead(404);
    res.end();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen, server };
}

describe("uploads and blob reads sent to another origin", () => {
  test("https to https: the push succeeds and the other origin never sees an Authorization header", async () => {
    const front = await startRedirectingRegistry({
      upstream: registry.host,
      dir: join(work.path, "https"),
      otherScheme: "https",
      login,
    });
    const client = await RegistryClient.connect({ host: front.host, caFile: front.caFile, credentials });
    try {
      const image = makeImage([5_000, 70_000]);
      const repository = new RepositoryClient(client, "origins/app");
      const result = await pushImage({
        repository,
        tags: ["v1"],
        plan: image.plan,
        openBlob: image.openBlob,
      });
      assert.equal(result.digest, image.digest);
      assert.equal((await registryManifest(`${registry.host}/origins/app:v1`)).digest, image.digest);
      // Blob checks were redirected there (307) and uploads were sent there (Location): all anonymous.
      const methods = new Set(front.otherRequests.map((r) => r.method));
      assert.ok(methods.has("HEAD") && methods.has("PUT"), JSON.stringify(front.otherRequests));
      assert.deepEqual(
        front.otherRequests.filter((r) => r.authorization !== undefined),
        [],
        "no Authorization header reached the other origin",
      );
      // A second push finds every blob through the redirect.
      const again = await pushImage({ repository, tags: ["v2"], plan: image.plan, openBlob: image.openBlob });
      assert.equal(again.blobsSkipped, image.plan.blobs.length);
    } finally {
      await client.close();
      await front.stop();
    }
  });

  test("https to http, an upload's Location: refused naming it, exit 1, nothing sent there, no tag", async () => {
    const front = await startRedirectingRegistry({
      upstream: registry.host,
      dir: join(work.path, "http-location"),
      otherScheme: "http",
      login,
      redirectReads: false,
    });
    try {
      const tarball = await writeOciTarball(join(work.path, "location.tar"));
      const result = await runCli(["push", tarball.path, "--repo", `${front.host}/origins/downgrade`], {
        env: {
          PLUGIN_REGISTRY: front.host,
          PLUGIN_USERNAME: login.username,
          PLUGIN_PASSWORD: login.password,
          PLUGIN_REGISTRY_CA: front.caFile,
        },
      });
      assert.equal(result.code, 1, result.stderr);
      assert.match(result.stderr, new RegExp(`to ${front.otherOrigin}/v2/origins/downgrade/blobs/uploads/`));
      assert.match(result.stderr, /plain HTTP: a request that started on https never continues on http/);
      assert.ok(!result.stderr.includes(login.password));
      assert.deepEqual(front.otherRequests, []);
      assert.deepEqual(await registryTags(registry.url, "origins/downgrade"), []);
    } finally {
      await front.stop();
    }
  });

  test("https to http, a redirect of a blob check: refused, nothing sent there", async () => {
    const front = await startRedirectingRegistry({
      upstream: registry.host,
      dir: join(work.path, "http-redirect"),
      otherScheme: "http",
      login,
    });
    const client = await RegistryClient.connect({
      host: front.host,
      caFile: front.caFile,
      credentials,
      retry: { attempts: 1 },
    });
    try {
      const error = await new RepositoryClient(client, "origins/redirect")
        .blobExists(`sha256:${"1".repeat(64)}`)
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      assert.ok(error instanceof ProtocolError, String(error));
      assert.equal(exitCodeOf(error), 1);
      assert.match(
        error.message,
        /a redirect from https:\/\/127\.0\.0\.1:\d+ to http:\/\/127\.0\.0\.1:\d+\/v2\//,
      );
      assert.deepEqual(front.otherRequests, []);
    } finally {
      await client.close();
      await front.stop();
    }
  });

  test("a 401 from the other origin does not replace the registry's challenge nor fetch a token", async () => {
    const realm = await recordingServer();
    const front = await startRedirectingRegistry({
      upstream: registry.host,
      dir: join(work.path, "refusing"),
      otherScheme: "https",
      login,
      otherRefusesWithRealm: `${realm.url}/token`,
    });
    const client = await RegistryClient.connect({
      host: front.host,
      caFile: front.caFile,
      credentials,
      retry: { attempts: 1 },
    });
    try {
      const repository = new RepositoryClient(client, "origins/refused");
      const error = await repository.blobExists(`sha256:${"2".repeat(64)}`).then(
        () => undefined,
        (e: unknown) => e,
      );
      assert.match(String(error), /HTTP 401/);
      assert.match(String(error), /is not the registry/);
      assert.deepEqual(realm.seen, [], "the other origin's realm was never asked");
      // The login to the registry itself still works (Basic, unchanged): a manifest check is answered.
      assert.equal(await repository.manifestDigest("nothing"), undefined);
      assert.ok(front.otherRequests.every((r) => r.authorization === undefined));
    } finally {
      await client.close();
      await front.stop();
      stopServer(realm.server);
    }
  });
});

describe("token realms (issue 11.6)", () => {
  /** An https registry that asks for a Bearer token at `realm`. */
  async function bearerRegistry(realm: string) {
    const dir = join(work.path, `realm-${Math.random().toString(36).slice(2)}`);
    await mkdir(dir);
    const certs = makeCertificates(dir);
    const server = createHttpsServer(
      { key: readFileSync(certs.key), cert: readFileSync(certs.cert) },
      (req, res) => {
        req.resume();
        res.writeHead(401, {
          "www-authenticate": `Bearer realm="${realm}",service="realm-test"`,
          "content-type": "application/json",
        });
        res.end('{"errors":[{"code":"UNAUTHORIZED"}]}');
      },
    );
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return { host: `127.0.0.1:${(server.address() as AddressInfo).port}`, caFile: certs.ca, server };
  }

  for (const [what, realmHost] of [
    ["another host", "localhost"],
    ["the same host", "127.0.0.1"],
  ] as const) {
    test(`an https registry with a plain-http realm on ${what}: the password is not sent, exit 1`, async () => {
      const realm = await recordingServer();
      const realmUrl = `${realm.url.replace("127.0.0.1", realmHost)}/token`;
      const fake = await bearerRegistry(realmUrl);
      const client = await RegistryClient.connect({ host: fake.host, caFile: fake.caFile, credentials });
      try {
        const error = await new RepositoryClient(client, "realm/app")
          .blobExists(`sha256:${"3".repeat(64)}`)
          .then(
            () => undefined,
            (e: unknown) => e,
          );
        assert.ok(error instanceof ProtocolError, String(error));
        assert.equal(exitCodeOf(error), 1);
        assert.ok(error.message.includes(realmUrl), error.message);
        assert.match(error.message, /the password would travel unencrypted/);
        assert.ok(!error.message.includes(login.password));
        assert.deepEqual(realm.seen, []);
      } finally {
        await client.close();
        stopServer(fake.server);
        stopServer(realm.server);
      }
    });
  }

  test("anonymous access may use a plain-http realm: there is no secret to protect", async () => {
    const realm = await recordingServer();
    const fake = await bearerRegistry(`${realm.url.replace("127.0.0.1", "localhost")}/token`);
    const client = await RegistryClient.connect({
      host: fake.host,
      caFile: fake.caFile,
      retry: { attempts: 1 },
    });
    try {
      await new RepositoryClient(client, "realm/anonymous")
        .blobExists(`sha256:${"4".repeat(64)}`)
        .catch(() => {});
      assert.equal(realm.seen.length, 1);
      assert.match(realm.seen[0] ?? "", /without authorization/);
    } finally {
      await client.close();
      stopServer(fake.server);
      stopServer(realm.server);
    }
  });
});
