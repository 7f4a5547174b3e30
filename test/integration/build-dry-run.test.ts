// Build-only (dry run) through the real CLI and engine (containerd image store): tarballs in docker and
// OCI format, multi-platform, load, cache only; failures exit 1 (buildx) or 2 (bad input).
import assert from "node:assert/strict";
import { execFile, execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { promisify } from "node:util";
import { runCli } from "../helpers/cli.js";
import { runImage } from "../helpers/engine.js";
import { registryTags, sampleContext } from "../helpers/images.js";
import { sharedRegistry } from "../helpers/registry.js";
import { tempDir } from "../helpers/tmp.js";

const exec = promisify(execFile);
let work: Awaited<ReturnType<typeof tempDir>>;
const loaded: string[] = [];

before(async () => {
  work = await tempDir("buildx-step-build-dry-");
});
after(async () => {
  if (loaded.length > 0) await exec("docker", ["rmi", "--force", ...loaded]).catch(() => undefined);
  await work?.remove();
});

const unique = () => `bxs-${randomBytes(4).toString("hex")}`;
const tarEntry = (tarball: string, name: string) =>
  JSON.parse(execFileSync("tar", ["-xOf", tarball, name]).toString());

interface Index {
  manifests: {
    digest: string;
    mediaType: string;
    platform?: { architecture: string };
    annotations?: Record<string, string>;
  }[];
}

async function dockerLoad(tarball: string): Promise<string> {
  const { stdout } = await exec("docker", ["load", "--input", tarball]);
  return stdout;
}

test("dry run + tar, docker format: the tarball loads with every tag, nothing reaches the registry", async () => {
  const context = await sampleContext(join(work.path, "docker"));
  const repository = `dry/${unique()}`;
  const repo = `${sharedRegistry}/${repository}`;
  const tar = join(work.path, "out", "nested", "docker.tar");
  const outputFile = join(work.path, "docker.env");
  const result = await runCli(["--json"], {
    cwd: context,
    env: {
      PLUGIN_REPO: repo,
      PLUGIN_TAGS: "v1,v2",
      PLUGIN_DRY_RUN: "true",
      PLUGIN_TAR_PATH: tar,
      DRONE_OUTPUT: outputFile,
    },
  });
  assert.equal(result.code, 0, result.stderr);
  const json = JSON.parse(result.stdout) as { mode: string; tarPath: string; digest: string };
  assert.equal(json.mode, "build-only");
  assert.equal(json.tarPath, tar);
  const manifest = tarEntry(tar, "manifest.json") as { RepoTags: string[] }[];
  assert.deepEqual(manifest[0]?.RepoTags, [`${repo}:v1`, `${repo}:v2`]);
  const index = tarEntry(tar, "index.json") as Index;
  assert.equal(index.manifests[0]?.digest, json.digest, "the digest is the tarball's manifest");
  assert.equal(await readFile(outputFile, "utf8"), `digest=${json.digest}\nIMAGE_TAR_PATH=${tar}\n`);

  const output = await dockerLoad(tar);
  loaded.push(`${repo}:v1`, `${repo}:v2`);
  assert.match(output, new RegExp(`${repo}:v1`));
  assert.match(output, new RegExp(`${repo}:v2`));
  assert.deepEqual(await registryTags(`http://${sharedRegistry}`, repository), []);
});

test("dry run + tar, oci format: an OCI layout that loads; the digest is index.json's", async () => {
  const context = await sampleContext(join(work.path, "oci"));
  const repo = `bxs-dry/${unique()}`;
  const tar = join(work.path, "oci.tar");
  const result = await runCli([
    "build",
    "--dry-run",
    "--tar",
    tar,
    "--format",
    "oci",
    "--repo",
    repo,
    "-t",
    "o1",
    "--json",
    context,
  ]);
  assert.equal(result.code, 0, result.stderr);
  const json = JSON.parse(result.stdout) as { digest: string };
  assert.deepEqual(tarEntry(tar, "oci-layout"), { imageLayoutVersion: "1.0.0" });
  const index = tarEntry(tar, "index.json") as Index;
  assert.equal(index.manifests[0]?.digest, json.digest);
  assert.throws(
    () => execFileSync("tar", ["-xOf", tar, "manifest.json"], { stdio: "pipe" }),
    "no docker manifest.json",
  );
  await dockerLoad(tar);
  loaded.push(`${repo}:o1`);
  await exec("docker", ["image", "inspect", `${repo}:o1`]);
});

test("several platforms, format not set: an OCI tarball with an index, and the log says why", async () => {
  // No RUN step: both platforms build without emulation.
  const context = await sampleContext(join(work.path, "multi"));
  const tar = join(work.path, "multi.tar");
  const result = await runCli(["--json"], {
    cwd: context,
    env: {
      PLUGIN_REPO: `bxs-dry/${unique()}`,
      PLUGIN_DRY_RUN: "true",
      PLUGIN_TAR_PATH: tar,
      PLUGIN_PLATFORM: "linux/amd64,linux/arm64",
    },
  });
  assert.equal(result.code, 0, result.stderr);
  assert.match(
    result.stderr,
    /writing an OCI tarball: the docker format cannot hold an image for 2 platforms/,
  );
  const json = JSON.parse(result.stdout) as { digest: string };
  const top = tarEntry(tar, "index.json") as Index;
  assert.equal(top.manifests[0]?.digest, json.digest);
  assert.equal(top.manifests[0]?.mediaType, "application/vnd.oci.image.index.v1+json");
  const inner = tarEntry(tar, `blobs/sha256/${json.digest.slice("sha256:".length)}`) as Index;
  const architectures = inner.manifests
    .map((m) => m.platform?.architecture)
    .filter((a) => a && a !== "unknown");
  assert.deepEqual(architectures.sort(), ["amd64", "arm64"]);
});

test("several platforms with PLUGIN_BUILDX_OUTPUT_FORMAT=docker: exit 2 before building, saying to use oci", async () => {
  const context = await sampleContext(join(work.path, "multi-docker"));
  const tar = join(work.path, "never.tar");
  const result = await runCli([], {
    cwd: context,
    env: {
      PLUGIN_DRY_RUN: "true",
      PLUGIN_TAR_PATH: tar,
      PLUGIN_BUILDX_OUTPUT_FORMAT: "docker",
      PLUGIN_PLATFORM: "linux/amd64,linux/arm64",
    },
  });
  assert.equal(result.code, 2);
  assert.match(result.stderr, /PLUGIN_BUILDX_OUTPUT_FORMAT=oci/);
  assert.match(result.stderr, /PLUGIN_PLATFORM/);
  assert.doesNotMatch(result.stderr, /docker buildx build/);
  await assert.rejects(readFile(tar));
});

test("dry run + load: the image is in the engine with every tag, not in the registry", async () => {
  const context = await sampleContext(join(work.path, "load"), { run: true });
  const repository = `load/${unique()}`;
  const repo = `${sharedRegistry}/${repository}`;
  const result = await runCli(["--json"], {
    cwd: context,
    env: { PLUGIN_REPO: repo, PLUGIN_TAGS: "l1,l2", PLUGIN_DRY_RUN: "true", PLUGIN_BUILDX_LOAD: "true" },
  });
  assert.equal(result.code, 0, result.stderr);
  loaded.push(`${repo}:l1`, `${repo}:l2`);
  const stdout = await runImage(`${repo}:l2`);
  assert.equal(stdout, await readFile(join(context, "unique.txt"), "utf8"));
  await exec("docker", ["image", "inspect", `${repo}:l1`]);
  assert.deepEqual(await registryTags(`http://${sharedRegistry}`, repository), []);
});

test("dry run alone: the image is left in the engine under every tag, as the plugin's docker driver leaves it", async () => {
  const context = await sampleContext(join(work.path, "dry-engine"));
  const repo = `bxs-dry/${unique()}`;
  const result = await runCli(["--json"], {
    cwd: context,
    env: { PLUGIN_REPO: repo, PLUGIN_DRY_RUN: "true", PLUGIN_TAGS: "d1,d2" },
  });
  try {
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, / --load /);
    const json = JSON.parse(result.stdout) as { digest?: string; mode: string };
    assert.equal(json.mode, "build-only");
    assert.match(json.digest ?? "", /^sha256:[a-f0-9]{64}$/);
    assert.match(
      result.stderr,
      new RegExp(`loaded ${repo}:d1, ${repo}:d2 into the engine at ${json.digest}`),
    );
    // A later step runs it from the engine.
    const stdout = await runImage(`${repo}:d2`);
    assert.equal(stdout.length, 32, "the sample's unique text");
  } finally {
    await exec("docker", ["image", "rm", `${repo}:d1`, `${repo}:d2`]).catch(() => {});
  }
});

test("dry run with PLUGIN_BUILDX_LOAD=false: built, kept only in the build cache, and the log says so", async () => {
  const context = await sampleContext(join(work.path, "cache"));
  const repo = `bxs-dry/${unique()}`;
  const result = await runCli(["--json"], {
    cwd: context,
    env: { PLUGIN_REPO: repo, PLUGIN_DRY_RUN: "true", PLUGIN_BUILDX_LOAD: "false" },
  });
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stderr, /only in the build cache, not in the engine \(set PLUGIN_BUILDX_LOAD=true/);
  await assert.rejects(exec("docker", ["image", "inspect", `${repo}:latest`]), "not loaded into the engine");
  assert.equal((JSON.parse(result.stdout) as { digest?: string }).digest, undefined);
});

test("a failing Dockerfile exits 1 with buildx's error; an existing tarball is left as it was", async () => {
  const context = await sampleContext(join(work.path, "fail"), {
    dockerfile:
      'FROM scratch\nCOPY busybox /bin/busybox\nRUN ["/bin/busybox", "sh", "-c", "echo broken-step >&2; exit 3"]',
  });
  const tar = join(work.path, "kept.tar");
  await writeFile(tar, "the previous tarball");
  const result = await runCli([], {
    cwd: context,
    env: { PLUGIN_DRY_RUN: "true", PLUGIN_TAR_PATH: tar },
  });
  assert.equal(result.code, 1, result.stderr);
  assert.match(
    result.stderr,
    /error: docker buildx build failed \(exit code 1\): ERROR: failed to solve: process .*did not complete successfully: exit code: 3/,
  );
  assert.equal(await readFile(tar, "utf8"), "the previous tarball");
  const { stdout } = await exec("ls", ["-a", work.path]);
  assert.doesNotMatch(stdout, /\.partial/, "no temporary tarball left");
});

test("a missing Dockerfile or context exits 2 naming the setting, before buildx runs", async () => {
  const context = await sampleContext(join(work.path, "missing"));
  const noFile = await runCli([], {
    cwd: context,
    env: { PLUGIN_DRY_RUN: "true", PLUGIN_DOCKERFILE: "docker/Dockerfile.nope" },
  });
  assert.equal(noFile.code, 2);
  assert.match(noFile.stderr, /PLUGIN_DOCKERFILE: no Dockerfile at .*docker\/Dockerfile\.nope/);
  assert.doesNotMatch(noFile.stderr, /docker buildx build/);
  const noContext = await runCli([], {
    cwd: context,
    env: { PLUGIN_DRY_RUN: "true", PLUGIN_CONTEXT: "nowhere" },
  });
  assert.equal(noContext.code, 2);
  assert.match(noContext.stderr, /PLUGIN_CONTEXT: the build context .*nowhere is not a folder/);
});

test("PLUGIN_CONTEXT=app with no PLUGIN_DOCKERFILE and no ./Dockerfile builds app/Dockerfile, and says so", async () => {
  const checkout = join(work.path, "checkout");
  const app = await sampleContext(join(checkout, "app"));
  const tar = join(work.path, "context-dockerfile.tar");
  const result = await runCli(["--json"], {
    cwd: checkout,
    env: { PLUGIN_DRY_RUN: "true", PLUGIN_CONTEXT: "app", PLUGIN_TAR_PATH: tar, PLUGIN_BUILDX_LOAD: "false" },
  });
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stderr, /no Dockerfile in .*checkout: building with the context's app\/Dockerfile/);
  assert.match(result.stderr, / --file app\/Dockerfile /);
  assert.ok((tarEntry(tar, "index.json") as Index).manifests.length > 0);
  // A ./Dockerfile of the working folder, or an explicit PLUGIN_DOCKERFILE, keeps today's meaning.
  await writeFile(join(checkout, "Dockerfile"), "FROM scratch\nCOPY . /\n");
  const own = await runCli([], {
    cwd: checkout,
    env: { PLUGIN_DRY_RUN: "true", PLUGIN_CONTEXT: "app", PLUGIN_BUILDX_LOAD: "false" },
  });
  assert.equal(own.code, 0, own.stderr);
  assert.match(own.stderr, / --file Dockerfile /);
  assert.doesNotMatch(own.stderr, /building with the context's/);
  assert.ok(app.length > 0);
});

test("a tarball replaces the existing one when the build succeeded", async () => {
  const context = await sampleContext(join(work.path, "replace"));
  const tar = join(work.path, "replace.tar");
  await writeFile(tar, "old");
  const result = await runCli(["build", "--dry-run", "--tar", tar, context]);
  assert.equal(result.code, 0, result.stderr);
  assert.ok((tarEntry(tar, "index.json") as Index).manifests.length > 0);
});

test("dry run + tar + load: the tarball is written and the image is in the engine", async () => {
  const context = await sampleContext(join(work.path, "tar-load"));
  const repo = `bxs-dry/${unique()}`;
  const tar = join(work.path, "tar-load.tar");
  const result = await runCli([
    "build",
    "--dry-run",
    "--tar",
    tar,
    "--load",
    "--repo",
    repo,
    "-t",
    "tl",
    context,
  ]);
  assert.equal(result.code, 0, result.stderr);
  loaded.push(`${repo}:tl`);
  assert.ok((tarEntry(tar, "index.json") as Index).manifests.length > 0);
  await exec("docker", ["image", "inspect", `${repo}:tl`]);
});
