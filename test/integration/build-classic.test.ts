// The second engine with the classic image store: the buildx docker driver cannot export a tarball
// there, so the build loads the image and the tarball is saved from the engine, with every tag; a push
// reports the digest it pushed although buildx's metadata has no descriptor there.
import assert from "node:assert/strict";
import { execFile, execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { promisify } from "node:util";
import { runCli } from "../helpers/cli.js";
import { classicEngineHost, runImage } from "../helpers/engine.js";
import { registryManifest, sampleContext } from "../helpers/images.js";
import { sharedRegistry } from "../helpers/registry.js";
import { tempDir } from "../helpers/tmp.js";

const exec = promisify(execFile);
let work: Awaited<ReturnType<typeof tempDir>>;
let classicHost: string;
const classicImages: string[] = [];
const mainImages: string[] = [];

before(async () => {
  work = await tempDir("buildx-step-build-classic-");
  classicHost = await classicEngineHost();
});
after(async () => {
  const classicEnv = { ...process.env, DOCKER_HOST: classicHost };
  if (classicImages.length > 0)
    await exec("docker", ["rmi", "--force", ...classicImages], { env: classicEnv }).catch(() => {});
  if (mainImages.length > 0) await exec("docker", ["rmi", "--force", ...mainImages]).catch(() => {});
  await work?.remove();
});

const unique = () => `bxs-${randomBytes(4).toString("hex")}`;
const tarEntry = (tarball: string, name: string) =>
  JSON.parse(execFileSync("tar", ["-xOf", tarball, name]).toString());

test("the engine reports the classic store (the premise of these tests)", async () => {
  const { stdout } = await exec("docker", ["info", "--format", "{{.Driver}} {{json .DriverStatus}}"], {
    env: { ...process.env, DOCKER_HOST: classicHost },
  });
  assert.match(stdout, /^overlay2 /);
  assert.doesNotMatch(stdout, /io\.containerd\.snapshotter/);
});

test("classic store: dry run + tar writes the tarball from the engine, with every tag", async () => {
  const context = await sampleContext(join(work.path, "fallback"), { run: true });
  const repo = `bxs-classic/${unique()}`;
  const tar = join(work.path, "out", "classic.tar");
  const result = await runCli(["--json"], {
    cwd: context,
    env: {
      DOCKER_HOST: classicHost,
      PLUGIN_REPO: repo,
      PLUGIN_TAGS: "c1,c2,c3",
      PLUGIN_DRY_RUN: "true",
      PLUGIN_TAR_PATH: tar,
    },
  });
  assert.equal(result.code, 0, result.stderr);
  classicImages.push(`${repo}:c1`, `${repo}:c2`, `${repo}:c3`);
  assert.match(
    result.stderr,
    /classic image store: loading the image into the engine, then saving the tarball/,
  );
  assert.match(result.stderr, / --load /);
  const json = JSON.parse(result.stdout) as { tarPath: string; digest: string; tags: string[] };
  assert.equal(json.tarPath, tar);
  assert.deepEqual(json.tags, ["c1", "c2", "c3"]);
  const manifest = tarEntry(tar, "manifest.json") as { RepoTags: string[] }[];
  assert.deepEqual(manifest[0]?.RepoTags?.sort(), [`${repo}:c1`, `${repo}:c2`, `${repo}:c3`]);
  // The digest reported is the one the tarball records (engine 25+ saves an OCI layout beside manifest.json).
  const index = tarEntry(tar, "index.json") as { manifests: { digest: string }[] };
  assert.ok(index.manifests.every((m) => m.digest === json.digest));

  // As the plugin's dry run with a tar path leaves it: the image stays loaded in the engine, every tag.
  for (const tag of ["c1", "c2", "c3"]) {
    await exec("docker", ["image", "inspect", `${repo}:${tag}`], {
      env: { ...process.env, DOCKER_HOST: classicHost },
    });
  }

  // The tarball is a real image: the other engine loads it and runs it.
  await exec("docker", ["load", "--input", tar]);
  mainImages.push(`${repo}:c1`, `${repo}:c2`, `${repo}:c3`);
  const stdout = await runImage(`${repo}:c3`);
  assert.equal(stdout.length, 32, "the sample's unique text");
});

test("classic store: several platforms in a tarball are refused before building", async () => {
  const context = await sampleContext(join(work.path, "multi"));
  const result = await runCli([], {
    cwd: context,
    env: {
      DOCKER_HOST: classicHost,
      PLUGIN_DRY_RUN: "true",
      PLUGIN_TAR_PATH: join(work.path, "multi.tar"),
      PLUGIN_PLATFORM: "linux/amd64,linux/arm64",
    },
  });
  assert.equal(result.code, 2, result.stderr);
  assert.match(result.stderr, /classic image store/);
  assert.doesNotMatch(result.stderr, /docker buildx build/);
});

test("classic store: dry run + tar + load keeps the image in the engine too", async () => {
  const context = await sampleContext(join(work.path, "fallback-load"));
  const repo = `bxs-classic/${unique()}`;
  const tar = join(work.path, "classic-load.tar");
  const result = await runCli(
    ["build", "--dry-run", "--tar", tar, "--load", "--repo", repo, "-t", "k1", context],
    {
      env: { DOCKER_HOST: classicHost },
    },
  );
  assert.equal(result.code, 0, result.stderr);
  classicImages.push(`${repo}:k1`);
  await exec("docker", ["image", "inspect", `${repo}:k1`], {
    env: { ...process.env, DOCKER_HOST: classicHost },
  });
  assert.deepEqual((tarEntry(tar, "manifest.json") as { RepoTags: string[] }[])[0]?.RepoTags, [`${repo}:k1`]);
});

test("classic store: build and push reports the digest the registry serves (its metadata has no descriptor)", async () => {
  const context = await sampleContext(join(work.path, "push"));
  const repo = `${sharedRegistry}/bxs-classic/${unique()}`;
  classicImages.push(`${repo}:v1`);
  const outputs = join(work.path, "push-out");
  const result = await runCli(["--json"], {
    cwd: context,
    env: {
      DOCKER_HOST: classicHost,
      PLUGIN_REPO: repo,
      PLUGIN_TAGS: "v1",
      DRONE_OUTPUT: join(outputs, "drone.env"),
    },
  });
  assert.equal(result.code, 0, result.stderr);
  const { digest } = JSON.parse(result.stdout) as { digest: string };
  assert.match(digest, /^sha256:[0-9a-f]{64}$/);
  assert.doesNotMatch(result.stderr, /no digest reported|another push moved/);
  assert.equal((await registryManifest(`${repo}:v1`)).digest, digest);
  assert.equal(await readFile(join(outputs, "drone.env"), "utf8"), `digest=${digest}\n`);
});
