// Bearer-token auth against a real docker-registry configured with `auth.token`, and a token server in
// the test that signs JWTs the registry verifies (distribution's token spec). Checks: the login goes to
// the token server only (Basic, never in a URL), tokens carry the push scope (and pull on the mount
// source), are cached, and a token the registry stops accepting is renewed once on the 401.
import assert from "node:assert/strict";
import { createHash, createPrivateKey, randomBytes, sign } from "node:crypto";
import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Readable } from "node:stream";
import { after, before, test } from "node:test";
import type { PushPlan } from "../../lib/archive/types.js";
import { RegistryClient } from "../../lib/registry/client.js";
import { pushImage } from "../../lib/registry/push.js";
import { RepositoryClient } from "../../lib/registry/repository.js";
import { imageBlobs, ociLayoutItems, sampleImage, writeTar } from "../helpers/archive-fixtures.js";
import { runCli } from "../helpers/cli.js";
import { makeCertificates, type RegistryServer, startRegistry } from "../helpers/registry.js";
import { tempDir } from "../helpers/tmp.js";

const SERVICE = "buildx-step-test-registry";
const ISSUER = "buildx-step-test-issuer";
const login = { username: "token-user", password: "token-pass-123" };

interface TokenRequest {
  url: string;
  authorization?: string;
  scopes: string[];
}

let work: Awaited<ReturnType<typeof tempDir>>;
let registry: RegistryServer;
let tokenServer: Server;
const tokenRequests: TokenRequest[] = [];
/** How many of the next tokens are issued already expired (beyond the registry's 60 s leeway). */
let expiredTokensLeft = 0;

const base64url = (data: Buffer | string) => Buffer.from(data).toString("base64url");

before(async () => {
  work = await tempDir("buildx-step-token-");
  const certs = makeCertificates(work.path);
  const key = createPrivateKey(readFileSync(certs.caKey));
  const certDer = Buffer.from(
    readFileSync(certs.ca, "utf8")
      .replace(/-----(BEGIN|END) CERTIFICATE-----/g, "")
      .replace(/\s+/g, ""),
    "base64",
  );
  tokenServer = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://token");
    const scopes = url.searchParams.getAll("scope");
    tokenRequests.push({ url: req.url ?? "", authorization: req.headers.authorization, scopes });
    const expected = `Basic ${Buffer.from(`${login.username}:${login.password}`).toString("base64")}`;
    if (req.headers.authorization !== expected) {
      res.writeHead(401, { "content-type": "application/json" });
      res.end(JSON.stringify({ errors: [{ code: "UNAUTHORIZED", message: "bad login" }] }));
      return;
    }
    const now = Math.floor(Date.now() / 1000);
    const access = scopes.map((scope) => {
      const [type, name, actions] = scope.split(":");
      return { type, name, actions: (actions ?? "").split(",") };
    });
    const header = base64url(JSON.stringify({ alg: "RS256", typ: "JWT", x5c: [certDer.toString("base64")] }));
    const claims = base64url(
      JSON.stringify({
        iss: ISSUER,
        sub: login.username,
        aud: SERVICE,
        exp: expiredTokensLeft-- > 0 ? now - 600 : now + 300,
        nbf: now - 900,
        iat: now,
        jti: randomBytes(8).toString("hex"),
        access,
      }),
    );
    const signature = sign("RSA-SHA256", Buffer.from(`${header}.${claims}`), key).toString("base64url");
    res.writeHead(200, { "content-type": "application/json" });
    // expires_in says 300 s whatever the JWT says: the client learns of an early expiry by a 401.
    res.end(JSON.stringify({ token: `${header}.${claims}.${signature}`, expires_in: 300 }));
  });
  await new Promise<void>((resolve) => tokenServer.listen(0, "127.0.0.1", resolve));
  const port = (tokenServer.address() as AddressInfo).port;
  registry = await startRegistry({
    token: {
      realm: `http://127.0.0.1:${port}/token`,
      service: SERVICE,
      issuer: ISSUER,
      rootCertBundle: certs.ca,
    },
  });
});

after(async () => {
  await registry?.stop();
  tokenServer?.closeAllConnections();
  await new Promise((resolve) => tokenServer?.close(resolve));
  await work?.remove();
});

const sha256 = (bytes: Buffer) => `sha256:${createHash("sha256").update(bytes).digest("hex")}`;

function smallImage() {
  const layer = randomBytes(4_000);
  const config = Buffer.from(
    JSON.stringify({ os: "linux", architecture: "amd64", rootfs: { type: "layers", diff_ids: [] } }),
  );
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: "application/vnd.oci.image.manifest.v1+json",
      config: {
        mediaType: "application/vnd.oci.image.config.v1+json",
        digest: sha256(config),
        size: config.length,
      },
      layers: [
        { mediaType: "application/vnd.oci.image.layer.v1.tar", digest: sha256(layer), size: layer.length },
      ],
    }),
  );
  const plan: PushPlan = {
    blobs: [
      { mediaType: "application/vnd.oci.image.config.v1+json", digest: sha256(config), size: config.length },
      { mediaType: "application/vnd.oci.image.layer.v1.tar", digest: sha256(layer), size: layer.length },
    ],
    manifests: [
      {
        descriptor: {
          mediaType: "application/vnd.oci.image.manifest.v1+json",
          digest: sha256(manifest),
          size: manifest.length,
        },
        bytes: manifest,
      },
    ],
  };
  const openBlob = (digest: string) => Readable.from([digest === sha256(layer) ? layer : config]);
  return { plan, openBlob, digest: sha256(manifest) };
}

test("a push with a Bearer token: scopes, one token for the whole push, the login never in a URL", async () => {
  tokenRequests.length = 0;
  const client = await RegistryClient.connect({ host: registry.host, credentials: async () => login });
  const image = smallImage();
  const result = await pushImage({
    repository: new RepositoryClient(client, "token/app"),
    tags: ["v1"],
    plan: image.plan,
    openBlob: image.openBlob,
  });
  assert.equal(result.digest, image.digest);
  assert.equal(tokenRequests.length, 1, "the token is cached for the push");
  assert.deepEqual(tokenRequests[0]?.scopes, ["repository:token/app:pull,push"]);
  assert.match(tokenRequests[0]?.url ?? "", new RegExp(`service=${SERVICE}`));
  for (const request of tokenRequests) assert.doesNotMatch(request.url, /token-pass-123|token-user/);

  // Mounting from another repository asks pull access on it too.
  tokenRequests.length = 0;
  const mounted = await pushImage({
    repository: new RepositoryClient(client, "token/other", ["token/app"]),
    tags: ["v1"],
    plan: image.plan,
    // Read (and verified) locally, in case the registry refuses the mount; never uploaded.
    openBlob: image.openBlob,
  });
  assert.equal(mounted.blobsMounted, 2);
  assert.equal(mounted.bytesUploaded, 0);
  assert.deepEqual(tokenRequests[0]?.scopes.sort(), [
    "repository:token/app:pull",
    "repository:token/other:pull,push",
  ]);
  await client.close();
});

test("a token the registry refuses (expired) is renewed once on the 401, then used for the rest", async () => {
  tokenRequests.length = 0;
  // expires_in says 300 s, but the JWT has expired: the client learns it from the registry's 401.
  expiredTokensLeft = 1;
  const client = await RegistryClient.connect({ host: registry.host, credentials: async () => login });
  const repository = new RepositoryClient(client, "token/renew");
  assert.equal(await repository.blobExists(`sha256:${"1".repeat(64)}`), false);
  assert.equal(tokenRequests.length, 2, "the refused token and its renewal");
  const image = smallImage();
  const result = await pushImage({ repository, tags: ["v1"], plan: image.plan, openBlob: image.openBlob });
  assert.equal(result.digest, image.digest);
  assert.equal(tokenRequests.length, 2, "the renewed token served the whole push");
  await client.close();
});

test("a wrong password is refused by the token server: the error says so, without the password", async () => {
  const client = await RegistryClient.connect({
    host: registry.host,
    credentials: async () => ({ username: login.username, password: "wrong-pass-456" }),
  });
  const error = await new RepositoryClient(client, "token/app")
    .blobExists(`sha256:${"2".repeat(64)}`)
    .catch((e: unknown) => e);
  assert.ok(error instanceof Error);
  assert.match(error.message, /token server refused the credentials of user "token-user"/);
  assert.doesNotMatch(error.message, /wrong-pass-456/);
  await client.close();
});

test("a registry that echoes the request's Bearer token in an error: the token is masked in the log and --json", async () => {
  // A token server that hands out one token, and a registry that accepts it for reads and refuses the
  // upload, quoting the Authorization header it was sent (a debugging front, a misconfigured proxy).
  const token = `tok-${randomBytes(16).toString("hex")}`;
  const seen: string[] = [];
  const fake: Server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://fake");
    const authorization = req.headers.authorization ?? "";
    seen.push(`${req.method} ${url.pathname} ${authorization ? "with" : "without"} authorization`);
    req.resume();
    const json = (status: number, body: object, headers: Record<string, string> = {}) => {
      res.writeHead(status, { "content-type": "application/json", ...headers });
      res.end(JSON.stringify(body));
    };
    const { port } = fake.address() as AddressInfo;
    if (url.pathname === "/token") return json(200, { token, expires_in: 300 });
    if (authorization !== `Bearer ${token}`) {
      return json(
        401,
        { errors: [{ code: "UNAUTHORIZED", message: "authentication required" }] },
        { "www-authenticate": `Bearer realm="http://127.0.0.1:${port}/token",service="fake"` },
      );
    }
    if (req.method === "HEAD") return json(404, {});
    return json(403, {
      errors: [{ code: "DENIED", message: `refused the request with Authorization: ${authorization}` }],
    });
  });
  await new Promise<void>((resolve) => fake.listen(0, "127.0.0.1", resolve));
  const host = `127.0.0.1:${(fake.address() as AddressInfo).port}`;
  try {
    const image = sampleImage({ seed: "echo" });
    const tarball = await writeTar(
      `${work.path}/echo.tar`,
      ociLayoutItems(
        [{ mediaType: image.mediaType, digest: image.manifest.digest, size: image.manifest.size }],
        imageBlobs(image),
      ),
    );
    const result = await runCli(["push", tarball, "--repo", `${host}/team/app`, "-t", "v1", "--json"], {
      env: { DOCKER_CONFIG: work.path },
    });
    assert.equal(result.code, 1, result.stderr);
    assert.ok(
      seen.some((line) => line.startsWith("POST") && line.endsWith("with authorization")),
      seen.join("\n"),
    );
    assert.match(result.stderr, /refused the request with Authorization: Bearer \*\*\*/);
    assert.match(result.stdout, /Bearer \*\*\*/);
    assert.ok(!(result.stdout + result.stderr).includes(token), "the token was printed");
  } finally {
    fake.closeAllConnections();
    await new Promise((resolve) => fake.close(resolve));
  }
});
