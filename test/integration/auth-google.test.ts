// Google Container Registry and Artifact Registry logins end to end, with exactly the variables Harness sends
// for its GCR and GAR Build and Push steps on a VM (harness-core PluginSettingUtils
// getGCRStepInfoEnvVariables / getGARStepInfoEnvVariables; the rows of section 6 of
// research/harness-contract.md), against real registries (htpasswd behind TLS) whose only user is the one
// the wrappers log in as: `_json_key` with the key, `oauth2accesstoken` with an access token.
//
// gcr.io and *-docker.pkg.dev cannot be reached from here, so the registries are on loopback and
// PLUGIN_REGISTRY_TYPE=GCR / gar says what kind they are (the GCR wrapper sets GCR itself; Harness sends gar
// for GAR). PLUGIN_REGISTRY keeps Harness's shape `<host>/<project>`, so the repo is joined to
// `<host>/my-project/test-image` as the wrappers join it. The lite-engine paths (/tmp/engine/...) of the
// result files are moved into the test's folder; PLUGIN_REGISTRY_CA is the loopback registry's CA.
//
// bcrypt (htpasswd) compares the first 72 bytes of a password only: the keys here differ in those bytes.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { copyFile, mkdir, readFile } from "node:fs/promises";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { runCli } from "../helpers/cli.js";
import { buildTarball, registryManifest, sampleContext } from "../helpers/images.js";
import { type RegistryServer, startRegistry } from "../helpers/registry.js";
import { tempDir } from "../helpers/tmp.js";

/** A service account key, short and on one line: htpasswd reads one line of at most 256 bytes. */
function serviceAccountKey(): string {
  return JSON.stringify({
    type: "service_account",
    private_key_id: randomBytes(12).toString("hex"),
    project_id: "my-project",
    private_key: "-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n",
    client_email: "ci@my-project.iam.gserviceaccount.com",
  });
}

const KEY = serviceAccountKey();
const OTHER_KEY = serviceAccountKey();
const ACCESS_TOKEN = `ya29.access-Token-${randomBytes(8).toString("hex")}`;
const b64 = (text: string) => Buffer.from(text).toString("base64");
/** Every spelling of the secrets that must never be printed. */
const SECRETS = [KEY, b64(KEY), b64(`_json_key:${KEY}`), OTHER_KEY, ACCESS_TOKEN, "private_key_id"];

let work: Awaited<ReturnType<typeof tempDir>>;
let keyRegistry: RegistryServer;
let tokenRegistry: RegistryServer;
let tarball: string;
let context: string;
let certDir: string;
let emptyDockerConfig: string;

before(async () => {
  work = await tempDir("auth-google-");
  keyRegistry = await startRegistry({ auth: { username: "_json_key", password: KEY }, tls: true });
  tokenRegistry = await startRegistry({
    auth: { username: "oauth2accesstoken", password: ACCESS_TOKEN },
    tls: true,
  });
  certDir = join(work.path, "certs");
  await mkdir(certDir);
  // One CA per registry; skopeo's --cert-dir takes every *.crt in the folder.
  await copyFile(keyRegistry.caFile ?? "", join(certDir, "key-registry.crt"));
  await copyFile(tokenRegistry.caFile ?? "", join(certDir, "token-registry.crt"));
  // No login of this machine's user may help (or hide a failure).
  emptyDockerConfig = join(work.path, "docker-config");
  await mkdir(emptyDockerConfig);
  context = await sampleContext(join(work.path, "ctx"));
  tarball = await buildTarball({ context, dest: join(work.path, "image.tar"), format: "oci" });
});

after(async () => {
  await keyRegistry?.stop();
  await tokenRegistry?.stop();
  await work?.remove();
});

/** The result files lite-engine names for a step, in a folder of their own. */
async function resultFiles(name: string) {
  const dir = join(work.path, name);
  await mkdir(dir);
  return {
    PLUGIN_METADATA_FILE: join(dir, "build_push-buildx-metadata.json"),
    PLUGIN_ARTIFACT_FILE: join(dir, "build_push-artifact"),
    DRONE_OUTPUT: join(dir, "build_push-output.env"),
  };
}

/** Harness's "GCR / VM buildx" row, on a loopback registry. */
async function gcrStep(registry: RegistryServer, name: string, extra: Record<string, string>) {
  return {
    // -- what Harness sends (getGCRStepInfoEnvVariables, VM)
    PLUGIN_REGISTRY: `${registry.host}/my-project`,
    PLUGIN_REPO: "test-image",
    PLUGIN_TAGS: "new-1",
    PLUGIN_DAEMON_OFF: "true",
    PLUGIN_JSON_KEY: KEY,
    ...(await resultFiles(name)),
    // -- what the test adds: the kind (the host says nothing), the loopback CA, no user docker config
    PLUGIN_REGISTRY_TYPE: "GCR",
    PLUGIN_REGISTRY_CA: registry.caFile ?? "",
    DOCKER_CONFIG: emptyDockerConfig,
    ...extra,
  };
}

/** Harness's "GAR / VM buildx" row, on a loopback registry. */
async function garStep(registry: RegistryServer, name: string, extra: Record<string, string>) {
  return {
    // -- what Harness sends (getGARStepInfoEnvVariables, VM)
    PLUGIN_REGISTRY: `${registry.host}/my-project`,
    PLUGIN_REPO: "my-repo/test-image",
    PLUGIN_TAGS: "new-1",
    PLUGIN_REGISTRY_TYPE: "gar",
    PLUGIN_DAEMON_OFF: "true",
    PLUGIN_JSON_KEY: KEY,
    ...(await resultFiles(name)),
    // -- what the test adds
    PLUGIN_REGISTRY_CA: registry.caFile ?? "",
    DOCKER_CONFIG: emptyDockerConfig,
    ...extra,
  };
}

const pushOnly = () => ({ PLUGIN_PUSH_ONLY: "true", PLUGIN_SOURCE_TAR_PATH: tarball });

function assertNoSecret(output: string) {
  for (const secret of SECRETS) assert.ok(!output.includes(secret), `a secret leaked: ${output}`);
}

/** The digest the artifact file reports, checked against what the registry serves (read by skopeo). */
async function assertPublished(
  env: Record<string, string>,
  registry: RegistryServer,
  repository: string,
  creds: string,
): Promise<string> {
  const artifact = JSON.parse(await readFile(env.PLUGIN_ARTIFACT_FILE ?? "", "utf8"));
  const image = artifact.data.images[0];
  assert.equal(image.image, `${registry.host}/${repository}:new-1`);
  const served = await registryManifest(`${registry.host}/${repository}:new-1`, {
    tls: true,
    caDir: certDir,
    creds,
  });
  assert.equal(image.digest, served.digest);
  const output = await readFile(env.DRONE_OUTPUT ?? "", "utf8");
  assert.match(output, new RegExp(`^digest=${served.digest}$`, "m"));
  return served.digest;
}

test("GCR / VM: push-only logs in as _json_key with PLUGIN_JSON_KEY, to the joined repository", async () => {
  const env = await gcrStep(keyRegistry, "gcr-push", pushOnly());
  const result = await runCli([], { env });
  assert.equal(result.code, 0, result.stderr);
  await assertPublished(env, keyRegistry, "my-project/test-image", `_json_key:${KEY}`);
  const artifact = JSON.parse(await readFile(env.PLUGIN_ARTIFACT_FILE, "utf8"));
  assert.equal(artifact.data.registryType, "GCR");
  assert.equal(artifact.data.registryUrl, `${keyRegistry.host}/my-project`);
  assertNoSecret(result.stdout + result.stderr);
});

test("GAR / VM: a base64 key is decoded, and the engine path sends it as X-Registry-Auth", async () => {
  const env = await garStep(keyRegistry, "gar-daemon", {
    ...pushOnly(),
    PLUGIN_JSON_KEY: b64(KEY),
    PLUGIN_PUSH_VIA: "daemon",
  });
  const result = await runCli([], { env });
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stderr, /through the Docker engine/);
  await assertPublished(env, keyRegistry, "my-project/my-repo/test-image", `_json_key:${KEY}`);
  assertNoSecret(result.stdout + result.stderr);
});

test("ACCESS_TOKEN logs in as oauth2accesstoken; with a key too, the key is used (as in the plugin), with a warning", async () => {
  const tokenEnv = await gcrStep(tokenRegistry, "gcr-token", {
    ...pushOnly(),
    PLUGIN_JSON_KEY: "",
    ACCESS_TOKEN,
  });
  const tokenRun = await runCli([], { env: tokenEnv });
  assert.equal(tokenRun.code, 0, tokenRun.stderr);
  await assertPublished(
    tokenEnv,
    tokenRegistry,
    "my-project/test-image",
    `oauth2accesstoken:${ACCESS_TOKEN}`,
  );
  assertNoSecret(tokenRun.stdout + tokenRun.stderr);

  const bothEnv = await gcrStep(keyRegistry, "gcr-both", { ...pushOnly(), ACCESS_TOKEN });
  const bothRun = await runCli([], { env: bothEnv });
  assert.equal(bothRun.code, 0, bothRun.stderr);
  assert.match(bothRun.stderr, /ACCESS_TOKEN is not used: PLUGIN_JSON_KEY is/);
  assertNoSecret(bothRun.stdout + bothRun.stderr);
});

test("GCR build-and-push logs buildx in through the temporary docker config", async () => {
  const env = await gcrStep(keyRegistry, "gcr-build", {
    PLUGIN_REPO: "built-image",
    PLUGIN_CONTEXT: context,
    PLUGIN_DOCKERFILE: join(context, "Dockerfile"),
  });
  const result = await runCli([], { env });
  assert.equal(result.code, 0, result.stderr);
  await assertPublished(env, keyRegistry, "my-project/built-image", `_json_key:${KEY}`);
  assertNoSecret(result.stdout + result.stderr);
});

test("a key the registry does not know exits 1, and nothing is published", async () => {
  const env = await gcrStep(keyRegistry, "gcr-wrong", {
    ...pushOnly(),
    PLUGIN_REPO: "refused-image",
    PLUGIN_JSON_KEY: OTHER_KEY,
  });
  const result = await runCli([], { env });
  assert.equal(result.code, 1, result.stderr);
  assert.match(result.stderr, /401|unauthori[sz]ed|denied|refused/i);
  assertNoSecret(result.stdout + result.stderr);
  await assert.rejects(
    registryManifest(`${keyRegistry.host}/my-project/refused-image:new-1`, {
      tls: true,
      caDir: certDir,
      creds: `_json_key:${KEY}`,
    }),
  );
});

test("a key that is no key exits 2 before anything runs, naming PLUGIN_JSON_KEY and not its value", async () => {
  const notAKey = `not-a-Key-${randomBytes(6).toString("hex")}`;
  const env = await gcrStep(keyRegistry, "gcr-bad", { ...pushOnly(), PLUGIN_JSON_KEY: notAKey });
  const result = await runCli([], { env });
  assert.equal(result.code, 2, result.stderr);
  assert.match(result.stderr, /PLUGIN_JSON_KEY is neither the key's JSON nor standard base64 of it/);
  assert.ok(!(result.stdout + result.stderr).includes(notAKey), result.stderr);
});

test("the key goes to the GCR registry only: a repo on another registry is pushed without it", async () => {
  // Another registry, on loopback: it asks for a login and records what it is sent.
  const seen: IncomingHttpHeaders[] = [];
  const other: Server = createServer((request, response) => {
    seen.push(request.headers);
    request.resume();
    response.writeHead(401, {
      "www-authenticate": 'Basic realm="other"',
      "content-type": "application/json",
    });
    response.end('{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}');
  });
  await new Promise<void>((resolve) => other.listen(0, "127.0.0.1", resolve));
  const otherHost = `127.0.0.1:${(other.address() as AddressInfo).port}`;
  try {
    const env = await gcrStep(keyRegistry, "gcr-elsewhere", {
      ...pushOnly(),
      PLUGIN_REPO: `${otherHost}/team/app`,
    });
    const result = await runCli([], { env });
    assert.equal(result.code, 1, result.stderr);
    assert.ok(seen.length > 0, "the other registry was asked");
    for (const headers of seen) assert.equal(headers.authorization, undefined, JSON.stringify(headers));
    assertNoSecret(result.stdout + result.stderr);
  } finally {
    other.closeAllConnections();
    await new Promise((resolve) => other.close(resolve));
  }
});

test("a registry name that a URL reads as another host is refused: the key never leaves for that host", async () => {
  // `HOST#.gcr.io` ends like a GCR host, so the key would be for it; a URL reads it as HOST (the rest is
  // a fragment). The same with `?` (a query) for Artifact Registry, and PLUGIN_LOCATION, which makes one.
  const seen: IncomingHttpHeaders[] = [];
  const other: Server = createServer((request, response) => {
    seen.push(request.headers);
    request.resume();
    response.writeHead(401, { "www-authenticate": 'Basic realm="other"' });
    response.end();
  });
  await new Promise<void>((resolve) => other.listen(0, "127.0.0.1", resolve));
  const otherHost = `127.0.0.1:${(other.address() as AddressInfo).port}`;
  try {
    for (const [name, registry, extra] of [
      ["hash", `${otherHost}#.gcr.io`, {}],
      ["query", `${otherHost}?-docker.pkg.dev`, {}],
      ["location", undefined, { PLUGIN_LOCATION: `${otherHost}?` }],
    ] as const) {
      const env: Record<string, string> = {
        ...(await gcrStep(keyRegistry, `gcr-confused-${name}`, { ...pushOnly(), ...extra })),
        // The kind comes from the name alone, as for a real gcr.io; the host takes plain HTTP.
        PLUGIN_REGISTRY_TYPE: "",
        PLUGIN_INSECURE: "true",
      };
      if (registry) env.PLUGIN_REGISTRY = registry;
      else delete env.PLUGIN_REGISTRY;
      env.PLUGIN_REPO = `${registry ?? `${otherHost}?-docker.pkg.dev`}/team/app`;
      const result = await runCli([], { env });
      assert.equal(result.code, 2, `${name}: ${result.stderr}`);
      assert.match(result.stderr, /is not a registry host|does not start with a registry host/, name);
      assertNoSecret(result.stdout + result.stderr);
    }
    assert.deepEqual(seen, [], "the other host was sent nothing");
  } finally {
    other.closeAllConnections();
    await new Promise((resolve) => other.close(resolve));
  }
});
