// Build and push through the real CLI (plugin mode: PLUGIN_* settings), the real engine (containerd image
// store), real buildx and real registries on loopback.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { promisify } from "node:util";
import { runCli } from "../helpers/cli.js";
import { buildTarball, registryManifest, registryTags, sampleContext } from "../helpers/images.js";
import { type RegistryServer, sharedRegistry, startRegistry } from "../helpers/registry.js";
import { tempDir } from "../helpers/tmp.js";

let work: Awaited<ReturnType<typeof tempDir>>;
let secured: RegistryServer;
const login = { username: "builder", password: `pw-${randomBytes(8).toString("hex")}` };

before(async () => {
  work = await tempDir("buildx-step-build-push-");
  secured = await startRegistry({ auth: login });
});
after(async () => {
  await secured?.stop();
  await work?.remove();
});

const unique = () => `bxs-${randomBytes(4).toString("hex")}`;

async function dockerConfigFolders(): Promise<string[]> {
  return (await readdir(tmpdir())).filter((name) => name.startsWith("buildx-step-docker-config-"));
}

test("build and push: every tag is served at the metadata's digest; outputs written", async () => {
  const context = await sampleContext(join(work.path, "push"));
  const repository = `build/${unique()}`;
  const outputs = join(work.path, "push-out");
  const result = await runCli(["--json"], {
    cwd: context,
    env: {
      PLUGIN_REPO: `${sharedRegistry}/${repository}`,
      PLUGIN_TAGS: "v1,v1.2,latest",
      DRONE_OUTPUT: join(outputs, "drone.env"),
      PLUGIN_ARTIFACT_FILE: join(outputs, "artifact.json"),
      PLUGIN_METADATA_FILE: join(outputs, "metadata.json"),
      DRONE_COMMIT_SHA: "0123456789abcdef",
    },
  });
  assert.equal(result.code, 0, result.stderr);
  const json = JSON.parse(result.stdout) as { mode: string; digest: string; tags: string[]; image: string };
  assert.equal(json.mode, "build-and-push");
  assert.deepEqual(json.tags, ["v1", "v1.2", "latest"]);
  assert.equal(json.image, `${sharedRegistry}/${repository}`);

  const metadata = JSON.parse(await readFile(join(outputs, "metadata.json"), "utf8")) as Record<
    string,
    unknown
  >;
  const digest = metadata["containerimage.digest"];
  assert.match(String(digest), /^sha256:[0-9a-f]{64}$/);
  assert.equal(json.digest, digest);
  for (const tag of ["v1", "v1.2", "latest"]) {
    const served = await registryManifest(`${sharedRegistry}/${repository}:${tag}`);
    assert.equal(served.digest, digest, `tag ${tag}`);
  }
  assert.equal(await readFile(join(outputs, "drone.env"), "utf8"), `digest=${digest}\n`);
  const artifact = JSON.parse(await readFile(join(outputs, "artifact.json"), "utf8"));
  assert.equal(artifact.kind, "docker/v1");
  assert.deepEqual(
    artifact.data.images.map((image: { image: string; digest: string }) => [image.image, image.digest]),
    ["v1", "v1.2", "latest"].map((tag) => [`${sharedRegistry}/${repository}:${tag}`, digest]),
  );
  // The auto labels from the run's context reached the image.
  const served = await registryManifest(`${sharedRegistry}/${repository}:v1`);
  assert.ok(served.json.manifests || served.json.config, "a manifest or index");
  assert.match(result.stderr, /org\.opencontainers\.image\.revision=0123456789abcdef/);
});

test("a registry login reaches buildx through a temporary DOCKER_CONFIG, never argv or the log", async () => {
  const context = await sampleContext(join(work.path, "login"));
  const repository = `secure/${unique()}`;
  const before = await dockerConfigFolders();
  const env = {
    PLUGIN_REPO: `${secured.host}/${repository}`,
    PLUGIN_TAGS: "v1",
    PLUGIN_REGISTRY: secured.host,
    PLUGIN_USERNAME: login.username,
    PLUGIN_PASSWORD: login.password,
  };
  const result = await runCli(["--json"], { cwd: context, env });
  assert.equal(result.code, 0, result.stderr);
  const { digest } = JSON.parse(result.stdout) as { digest: string };
  const served = await registryManifest(`${secured.host}/${repository}:v1`, {
    creds: `${login.username}:${login.password}`,
  });
  assert.equal(served.digest, digest);
  assert.equal(result.stderr.includes(login.password), false, "password in the log");
  assert.match(result.stderr, /\+ docker buildx build /);
  assert.deepEqual(await dockerConfigFolders(), before, "the temporary docker config is removed");

  // The wrong password: buildx's push fails, exit 1 with its error, nothing published.
  const denied = await runCli([], {
    cwd: context,
    env: { ...env, PLUGIN_TAGS: "v2", PLUGIN_PASSWORD: "not-the-password" },
  });
  assert.equal(denied.code, 1, denied.stderr);
  assert.match(
    denied.stderr,
    /error: docker buildx build failed \(exit code 1\): ERROR: .*(401|[Uu]nauthorized|authoriz)/,
  );
  assert.equal(denied.stderr.includes("not-the-password"), false);
  assert.deepEqual(await dockerConfigFolders(), before);
});

test("push without PLUGIN_REPO is bad input: exit 2 before buildx runs", async () => {
  const context = await sampleContext(join(work.path, "norepo"));
  const result = await runCli([], { cwd: context, env: { PLUGIN_TAGS: "v1" } });
  assert.equal(result.code, 2);
  assert.match(result.stderr, /PLUGIN_REPO is not set/);
  assert.doesNotMatch(result.stderr, /docker buildx build/);
});

test("the build command pushes too, with flags instead of PLUGIN_* settings", async () => {
  const context = await sampleContext(join(work.path, "flags"));
  const repository = `flags/${unique()}`;
  const result = await runCli(
    ["build", "--repo", `${sharedRegistry}/${repository}`, "-t", "a", "-t", "b", "--json", context],
    { cwd: work.path },
  );
  assert.equal(result.code, 0, result.stderr);
  const { digest } = JSON.parse(result.stdout) as { digest: string };
  assert.deepEqual((await registryTags(`http://${sharedRegistry}`, repository)).sort(), ["a", "b"]);
  assert.equal((await registryManifest(`${sharedRegistry}/${repository}:b`)).digest, digest);
});

test("a private base image: the base image login reaches the build, the password nowhere in the log", async () => {
  // The base image lives only in the registry that needs a login.
  const base = await sampleContext(join(work.path, "base"));
  const baseTar = await buildTarball({ context: base, dest: join(work.path, "base.tar"), format: "oci" });
  const baseRef = `${secured.host}/base/${unique()}:1`;
  await promisify(execFile)("skopeo", [
    "copy",
    "--quiet",
    "--dest-tls-verify=false",
    "--dest-creds",
    `${login.username}:${login.password}`,
    `oci-archive:${baseTar}`,
    `docker://${baseRef}`,
  ]);
  const context = await sampleContext(join(work.path, "derived"), {
    dockerfile: `FROM ${baseRef}\nCOPY unique.txt /data/derived.txt`,
  });
  const tar = join(work.path, "derived.tar");
  const env = {
    PLUGIN_DRY_RUN: "true",
    PLUGIN_TAR_PATH: tar,
    PLUGIN_BASE_IMAGE_REGISTRY: secured.host,
    PLUGIN_BASE_IMAGE_USERNAME: login.username,
    PLUGIN_BASE_IMAGE_PASSWORD: login.password,
  };
  const result = await runCli([], { cwd: context, env });
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stderr.includes(login.password), false);
  const { stdout } = await promisify(execFile)("tar", ["-tf", tar]);
  assert.match(stdout, /index\.json/);

  // Without the login the same build cannot read its base image: exit 1 with buildx's reason.
  const anonymous = await runCli([], {
    cwd: context,
    env: {
      PLUGIN_DRY_RUN: "true",
      PLUGIN_TAR_PATH: join(work.path, "never.tar"),
      PLUGIN_PULL_IMAGE: "false",
    },
  });
  assert.equal(anonymous.code, 1, anonymous.stderr);
  assert.match(
    anonymous.stderr,
    /error: docker buildx build failed \(exit code 1\): ERROR: .*(401|[Uu]nauthorized|authoriz)/,
  );
});
