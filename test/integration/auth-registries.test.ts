// Credentials end to end, against real registries: htpasswd behind TLS with a CA made here, bearer-token
// auth with a token server made here, and a docker credential helper (a script on PATH). The tool runs as
// a user runs it (a new process, push-only and build-and-push), and skopeo, an independent client, checks
// what was published.
import assert from "node:assert/strict";
import { chmod, copyFile, mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { runCli } from "../helpers/cli.js";
import { buildTarball, registryManifest, sampleContext } from "../helpers/images.js";
import { type RegistryServer, startRegistry } from "../helpers/registry.js";
import { tempDir } from "../helpers/tmp.js";
import { startTokenServer, type TokenServer } from "../helpers/token-server.js";

const USER = { username: "ci-user", password: "htpasswd-Secret-4f1c" };
const TOKEN_USER = { username: "token-user", password: "token-Secret-9b2e" };
const REFRESH_TOKEN = "identity-Token-77aa";

let work: Awaited<ReturnType<typeof tempDir>>;
let tlsRegistry: RegistryServer;
let tokenServer: TokenServer;
let tokenRegistry: RegistryServer;
let tarball: string;
let context: string;
let bin: string;
let helperLog: string;
/** The CA as skopeo's --cert-dir wants it (`*.crt`). */
let certDir: string;

before(async () => {
  work = await tempDir("auth-registries-");
  tlsRegistry = await startRegistry({ auth: USER, tls: true });
  tokenServer = await startTokenServer({
    dir: work.path,
    users: [TOKEN_USER],
    refreshTokens: { [REFRESH_TOKEN]: TOKEN_USER.username },
  });
  tokenRegistry = await startRegistry({
    token: {
      realm: tokenServer.realm,
      service: tokenServer.service,
      issuer: tokenServer.issuer,
      rootCertBundle: tokenServer.rootCertBundle,
    },
  });
  certDir = join(work.path, "certs");
  await mkdir(certDir);
  await copyFile(tlsRegistry.caFile ?? "", join(certDir, "ca.crt"));
  context = await sampleContext(join(work.path, "ctx"));
  tarball = await buildTarball({ context, dest: join(work.path, "image.tar"), format: "oci" });
  // A credential helper that knows one registry, as docker-credential-helpers behave: the server address
  // on stdin, JSON on stdout, "credentials not found" and exit 1 for any other address.
  bin = join(work.path, "bin");
  helperLog = join(work.path, "helper.log");
  await mkdir(bin);
  await writeFile(helperLog, "");
  const helper = join(bin, "docker-credential-testhelper");
  await writeFile(
    helper,
    [
      "#!/bin/sh",
      "read -r address || true",
      `printf '%s %s\\n' "$1" "$address" >> ${helperLog}`,
      '[ "$1" = get ] || exit 1',
      `if [ "$address" = "${tlsRegistry.host}" ]; then`,
      `  printf '{"ServerURL":"%s","Username":"${USER.username}","Secret":"${USER.password}"}' "$address"`,
      "  exit 0",
      "fi",
      'echo "credentials not found in native keychain"',
      "exit 1",
      "",
    ].join("\n"),
  );
  await chmod(helper, 0o755);
  const empty = join(bin, "docker-credential-emptystore");
  await writeFile(
    empty,
    `#!/bin/sh\nread -r address || true\nprintf 'emptystore %s %s\\n' "$1" "$address" >> ${helperLog}\necho "credentials not found in native keychain"\nexit 1\n`,
  );
  await chmod(empty, 0o755);
});

after(async () => {
  await tlsRegistry?.stop();
  await tokenRegistry?.stop();
  await tokenServer?.stop();
  await work?.remove();
});

function assertNoSecret(output: string, ...secrets: string[]) {
  for (const secret of secrets) assert.ok(!output.includes(secret), `a secret leaked: ${output}`);
}

async function dockerConfig(name: string, config: unknown): Promise<string> {
  const dir = join(work.path, name);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, "config.json"), JSON.stringify(config));
  return dir;
}

test("push-only logs in through a credential helper on PATH, over TLS verified with PLUGIN_REGISTRY_CA", async () => {
  const config = await dockerConfig("helper-config", { credHelpers: { [tlsRegistry.host]: "testhelper" } });
  const result = await runCli([], {
    env: {
      PATH: `${bin}:${process.env.PATH}`,
      DOCKER_CONFIG: config,
      PLUGIN_PUSH_ONLY: "true",
      PLUGIN_SOURCE_TAR_PATH: tarball,
      PLUGIN_REGISTRY: tlsRegistry.host,
      PLUGIN_REPO: `${tlsRegistry.host}/team/helper`,
      PLUGIN_TAGS: "v1",
      PLUGIN_REGISTRY_CA: tlsRegistry.caFile,
    },
  });
  assert.equal(result.code, 0, result.stderr);
  const log = await readFile(helperLog, "utf8");
  assert.match(log, new RegExp(`^get ${tlsRegistry.host.replace(/\./g, "\\.")}$`, "m"));
  const served = await registryManifest(`${tlsRegistry.host}/team/helper:v1`, {
    tls: true,
    caDir: certDir,
    creds: `${USER.username}:${USER.password}`,
  });
  assert.equal(served.json.schemaVersion, 2);
  assertNoSecret(result.stdout + result.stderr, USER.password);
});

test("a CA that did not sign the registry's certificate is refused, naming PLUGIN_REGISTRY_CA", async () => {
  const otherCa = join(work.path, "other-ca");
  await mkdir(otherCa);
  const { makeCertificates } = await import("../helpers/registry.js");
  const other = makeCertificates(otherCa);
  const result = await runCli([], {
    env: {
      PLUGIN_PUSH_ONLY: "true",
      PLUGIN_SOURCE_TAR_PATH: tarball,
      PLUGIN_REGISTRY: tlsRegistry.host,
      PLUGIN_REPO: `${tlsRegistry.host}/team/otherca`,
      PLUGIN_USERNAME: USER.username,
      PLUGIN_PASSWORD: USER.password,
      PLUGIN_REGISTRY_CA: other.ca,
    },
  });
  assert.equal(result.code, 1, result.stderr);
  assert.match(result.stderr, /verify|certificate/i);
  assert.match(result.stderr, /PLUGIN_REGISTRY_CA/);
  assertNoSecret(result.stdout + result.stderr, USER.password);
});

test("a wrong password fails with the registry's refusal, and nothing is published", async () => {
  const result = await runCli([], {
    env: {
      PLUGIN_PUSH_ONLY: "true",
      PLUGIN_SOURCE_TAR_PATH: tarball,
      PLUGIN_REGISTRY: tlsRegistry.host,
      PLUGIN_REPO: `${tlsRegistry.host}/team/wrong`,
      PLUGIN_TAGS: "v1",
      PLUGIN_USERNAME: USER.username,
      PLUGIN_PASSWORD: "not-the-Password-123",
      PLUGIN_REGISTRY_CA: tlsRegistry.caFile,
    },
  });
  assert.equal(result.code, 1, result.stderr);
  assert.match(result.stderr, /401|unauthori[sz]ed|denied|refused/i);
  assertNoSecret(result.stdout + result.stderr, "not-the-Password-123");
  await assert.rejects(
    registryManifest(`${tlsRegistry.host}/team/wrong:v1`, {
      tls: true,
      caDir: certDir,
      creds: `${USER.username}:${USER.password}`,
    }),
  );
});

test("a bearer-token registry: PLUGIN_USERNAME/PASSWORD get a push token from the token server", async () => {
  const before = tokenServer.requests.length;
  const result = await runCli([], {
    env: {
      PLUGIN_PUSH_ONLY: "true",
      PLUGIN_SOURCE_TAR_PATH: tarball,
      PLUGIN_REGISTRY: tokenRegistry.host,
      PLUGIN_REPO: `${tokenRegistry.host}/team/token`,
      PLUGIN_TAGS: "v1,v2",
      PLUGIN_USERNAME: TOKEN_USER.username,
      PLUGIN_PASSWORD: TOKEN_USER.password,
    },
  });
  assert.equal(result.code, 0, result.stderr);
  const asked = tokenServer.requests.slice(before);
  assert.ok(
    asked.some(
      (r) =>
        r.account === TOKEN_USER.username &&
        r.granted &&
        r.scopes.some((s) => /^repository:team\/token:.*push/.test(s)),
    ),
    JSON.stringify(asked),
  );
  // The registry only serves a token holder: read the tags back with a token of our own.
  const token = await fetch(
    `${tokenServer.realm}?service=${tokenServer.service}&scope=repository:team/token:pull`,
    {
      headers: {
        authorization: `Basic ${Buffer.from(`${TOKEN_USER.username}:${TOKEN_USER.password}`).toString("base64")}`,
      },
    },
  ).then((r) => r.json() as Promise<{ token: string }>);
  const tags = await fetch(`${tokenRegistry.url}/v2/team/token/tags/list`, {
    headers: { authorization: `Bearer ${token.token}` },
  }).then((r) => r.json() as Promise<{ tags: string[] }>);
  assert.deepEqual(tags.tags.sort(), ["v1", "v2"]);
  assertNoSecret(result.stdout + result.stderr, TOKEN_USER.password);
});

test("a bearer-token registry: an identity token from PLUGIN_CONFIG is exchanged with the refresh-token grant", async () => {
  const before = tokenServer.requests.length;
  const config = JSON.stringify({
    auths: { [tokenRegistry.host]: { auth: "", identitytoken: REFRESH_TOKEN } },
  });
  const result = await runCli([], {
    env: {
      PLUGIN_PUSH_ONLY: "true",
      PLUGIN_SOURCE_TAR_PATH: tarball,
      PLUGIN_REGISTRY: tokenRegistry.host,
      PLUGIN_REPO: `${tokenRegistry.host}/team/identity`,
      PLUGIN_CONFIG: config,
    },
  });
  assert.equal(result.code, 0, result.stderr);
  const asked = tokenServer.requests.slice(before);
  assert.ok(
    asked.some((r) => r.grant === "refresh_token" && r.granted && r.account === TOKEN_USER.username),
    JSON.stringify(asked),
  );
  assertNoSecret(result.stdout + result.stderr, REFRESH_TOKEN);
});

test("a bearer-token registry refuses a wrong password with a clear message", async () => {
  const result = await runCli([], {
    env: {
      PLUGIN_PUSH_ONLY: "true",
      PLUGIN_SOURCE_TAR_PATH: tarball,
      PLUGIN_REGISTRY: tokenRegistry.host,
      PLUGIN_REPO: `${tokenRegistry.host}/team/refused`,
      PLUGIN_USERNAME: TOKEN_USER.username,
      PLUGIN_PASSWORD: "wrong-Token-Password",
    },
  });
  assert.equal(result.code, 1, result.stderr);
  assert.match(result.stderr, /token server refused/);
  assertNoSecret(result.stdout + result.stderr, "wrong-Token-Password");
});

test("build-and-push logs in through the temporary docker config, keeping the user's helper", async () => {
  const config = await dockerConfig("build-helper-config", {
    credHelpers: { [tlsRegistry.host]: "testhelper" },
  });
  const result = await runCli([], {
    env: {
      PATH: `${bin}:${process.env.PATH}`,
      DOCKER_CONFIG: config,
      PLUGIN_CONTEXT: context,
      PLUGIN_DOCKERFILE: join(context, "Dockerfile"),
      PLUGIN_REGISTRY: tlsRegistry.host,
      PLUGIN_REPO: `${tlsRegistry.host}/team/built`,
      PLUGIN_TAGS: "v1",
    },
  });
  assert.equal(result.code, 0, result.stderr);
  const served = await registryManifest(`${tlsRegistry.host}/team/built:v1`, {
    tls: true,
    caDir: certDir,
    creds: `${USER.username}:${USER.password}`,
  });
  assert.ok(served.digest.startsWith("sha256:"));
  assertNoSecret(result.stdout + result.stderr, USER.password);
});

test("build-and-push: a login from the settings wins over the user's credsStore for its registry", async () => {
  // A registry of its own: BuildKit keeps logins per registry between builds, which would hide a failure here.
  const own = await startRegistry({ auth: USER });
  try {
    // The store knows nothing: had buildx asked it for the push registry, the push would be anonymous and refused.
    const config = await dockerConfig("store-config", {
      auths: { [own.host]: {} },
      credsStore: "emptystore",
    });
    const result = await runCli([], {
      env: {
        PATH: `${bin}:${process.env.PATH}`,
        DOCKER_CONFIG: config,
        PLUGIN_CONTEXT: context,
        PLUGIN_DOCKERFILE: join(context, "Dockerfile"),
        PLUGIN_REGISTRY: own.host,
        PLUGIN_REPO: `${own.host}/team/pinned`,
        PLUGIN_TAGS: "v1",
        PLUGIN_USERNAME: USER.username,
        PLUGIN_PASSWORD: USER.password,
      },
    });
    assert.equal(result.code, 0, result.stderr);
    await registryManifest(`${own.host}/team/pinned:v1`, { creds: `${USER.username}:${USER.password}` });
    const log = await readFile(helperLog, "utf8");
    assert.ok(!log.includes(`emptystore get ${own.host}`), log);
    assertNoSecret(result.stdout + result.stderr, USER.password);
  } finally {
    await own.stop();
  }
});
