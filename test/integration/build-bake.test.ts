// Bake mode (PLUGIN_BAKE_FILE) through the real CLI, engine and a loopback registry: the bake file's
// targets are pushed (checked with skopeo) or, in a dry run, loaded into the engine; the digest is reported
// for one target, per target in --json; bake with push-only is refused.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { promisify } from "node:util";
import { runCli } from "../helpers/cli.js";
import { registryManifest, registryTags, sampleContext } from "../helpers/images.js";
import { type RegistryServer, startRegistry } from "../helpers/registry.js";
import { tempDir } from "../helpers/tmp.js";

const exec = promisify(execFile);
let work: Awaited<ReturnType<typeof tempDir>>;
let registry: RegistryServer;
const loaded: string[] = [];

before(async () => {
  work = await tempDir("buildx-step-build-bake-");
  registry = await startRegistry();
});
after(async () => {
  if (loaded.length > 0) await exec("docker", ["rmi", "--force", ...loaded]).catch(() => undefined);
  await registry?.stop();
  await work?.remove();
});

const unique = () => `bake-${randomBytes(4).toString("hex")}`;

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

test("one target pushed: the registry serves every tag at the reported digest; outputs written", async () => {
  const context = await sampleContext(join(work.path, "one"));
  const repo = `${registry.host}/${unique()}`;
  await writeFile(
    join(context, "docker-bake.hcl"),
    `target "app" {\n  context = "."\n  tags = ["${repo}:v1", "${repo}:latest"]\n}\n`,
  );
  const outputFile = join(work.path, "one.env");
  const artifactFile = join(work.path, "one-artifact.json");
  const metadataFile = join(work.path, "one-metadata.json");
  const result = await runCli(["--json"], {
    cwd: context,
    env: {
      PLUGIN_BAKE_FILE: "docker-bake.hcl",
      PLUGIN_BAKE_OPTIONS: "app;--load",
      DRONE_OUTPUT: outputFile,
      PLUGIN_ARTIFACT_FILE: artifactFile,
      PLUGIN_METADATA_FILE: metadataFile,
    },
  });
  assert.equal(result.code, 0, result.stderr);
  assert.match(
    result.stderr,
    new RegExp(`\\+ docker buildx bake -f ${context}/docker-bake\\.hcl --push --metadata-file \\S+ app\\n`),
  );
  assert.match(result.stderr, /PLUGIN_BAKE_OPTIONS: --load left out/);
  const json = JSON.parse(result.stdout) as {
    mode: string;
    digest: string;
    image: string;
    tags: string[];
    targets: Record<string, string>;
  };
  assert.equal(json.mode, "build-and-push");
  assert.equal(json.image, repo);
  assert.deepEqual(json.tags, ["v1", "latest"]);
  assert.deepEqual(json.targets, { app: json.digest });
  for (const tag of ["v1", "latest"]) {
    assert.equal((await registryManifest(`${repo}:${tag}`)).digest, json.digest, tag);
  }
  assert.equal(await readFile(outputFile, "utf8"), `digest=${json.digest}\n`);
  const artifact = JSON.parse(await readFile(artifactFile, "utf8")) as {
    data: { registryUrl: string; images: { image: string; digest: string }[] };
  };
  assert.equal(artifact.data.registryUrl, registry.host);
  assert.deepEqual(artifact.data.images, [
    { image: `${repo}:v1`, digest: json.digest },
    { image: `${repo}:latest`, digest: json.digest },
  ]);
  const metadata = JSON.parse(await readFile(metadataFile, "utf8")) as Record<string, unknown>;
  assert.deepEqual(Object.keys(metadata), ["app"], "bake's own metadata, keyed by target");
});

test("two targets: each digest in --json under targets, no single digest (DRONE_OUTPUT gets none)", async () => {
  const context = await sampleContext(join(work.path, "two"));
  const web = `${registry.host}/${unique()}`;
  const api = `${registry.host}/${unique()}`;
  await writeFile(
    join(context, "docker-bake.hcl"),
    [
      'group "default" {\n  targets = ["web", "api"]\n}',
      `target "web" {\n  context = "."\n  tags = ["${web}:v1"]\n}`,
      // A label makes the second image differ from the first.
      `target "api" {\n  context = "."\n  tags = ["${api}:v1"]\n  labels = { "role" = "api" }\n}`,
    ].join("\n"),
  );
  const outputFile = join(work.path, "two.env");
  const result = await runCli(["--json"], {
    cwd: context,
    env: { PLUGIN_BAKE_FILE: "docker-bake.hcl", DRONE_OUTPUT: outputFile },
  });
  assert.equal(result.code, 0, result.stderr);
  const json = JSON.parse(result.stdout) as { digest?: string; targets: Record<string, string> };
  assert.equal(json.digest, undefined);
  assert.deepEqual(Object.keys(json.targets).sort(), ["api", "web"]);
  assert.equal((await registryManifest(`${web}:v1`)).digest, json.targets.web);
  assert.equal((await registryManifest(`${api}:v1`)).digest, json.targets.api);
  assert.notEqual(json.targets.web, json.targets.api);
  assert.equal(await exists(outputFile), false, "no digest line for several targets");
  assert.match(result.stderr, /2 targets: no single digest to report/);
});

test("dry run: a JSON bake file's target is loaded into the engine, nothing pushed; unused settings warned about", async () => {
  const context = await sampleContext(join(work.path, "dry"));
  const repository = unique();
  const image = `${registry.host}/${repository}:dry`;
  await writeFile(
    join(context, "docker-bake.json"),
    JSON.stringify({ target: { app: { context: ".", tags: [image] } } }),
  );
  const result = await runCli(["--json"], {
    cwd: context,
    env: {
      PLUGIN_BAKE_FILE: "docker-bake.json",
      PLUGIN_BAKE_OPTIONS: "app",
      PLUGIN_DRY_RUN: "true",
      PLUGIN_TAR_PATH: join(work.path, "never.tar"),
      PLUGIN_CACHE_FROM: "type=local,src=/nowhere",
      PLUGIN_TAGS: "ignored",
    },
  });
  assert.equal(result.code, 0, result.stderr);
  loaded.push(image);
  assert.match(result.stderr, / --load --metadata-file \S+ app\n/);
  assert.match(
    result.stderr,
    /warning: PLUGIN_TAR_PATH is not used in bake mode \(PLUGIN_BAKE_FILE\): define outputs/,
  );
  assert.match(result.stderr, /warning: PLUGIN_CACHE_FROM is not used in bake mode/);
  assert.match(result.stderr, /warning: PLUGIN_TAGS is not used in bake mode .*name their own tags/);
  const json = JSON.parse(result.stdout) as { mode: string; digest: string };
  assert.equal(json.mode, "build-only");
  const { stdout } = await exec("docker", ["image", "inspect", "--format", "{{.Id}}", image]);
  // The containerd image store names an image by its manifest (index) digest: the one reported.
  assert.equal(stdout.trim(), json.digest);
  assert.equal(await exists(join(work.path, "never.tar")), false);
  assert.deepEqual(await registryTags(registry.url, repository), []);
});

test("bake with push-only: exit 2 naming both settings, nothing built", async () => {
  const context = await sampleContext(join(work.path, "conflict"));
  await writeFile(join(context, "docker-bake.hcl"), 'target "app" {\n  context = "."\n}\n');
  const result = await runCli([], {
    cwd: context,
    env: { PLUGIN_BAKE_FILE: "docker-bake.hcl", PLUGIN_PUSH_ONLY: "true", PLUGIN_REPO: `${registry.host}/x` },
  });
  assert.equal(result.code, 2, result.stderr);
  assert.match(result.stderr, /PLUGIN_BAKE_FILE and PLUGIN_PUSH_ONLY cannot be used together/);
  assert.doesNotMatch(result.stderr, /docker buildx/);
});
