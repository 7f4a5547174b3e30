// Bad input to push-only exits 2 and leaves the registry as it was (no repository, no blob, no tag):
// a corrupted blob, a truncated tarball, a wrong expected digest, a tarball with several images and
// no PLUGIN_SOURCE_IMAGE (the error lists the candidates; naming one then pushes that one).
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { readdir, readFile, stat, truncate, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { promisify } from "node:util";
import { runCli } from "../helpers/cli.js";
import { buildTarball, registryManifest, sampleContext } from "../helpers/images.js";
import { type RegistryServer, startRegistry } from "../helpers/registry.js";
import { tempDir } from "../helpers/tmp.js";

const exec = promisify(execFile);

let work: Awaited<ReturnType<typeof tempDir>>;
let registry: RegistryServer;
let tarball: string;
let image: { digest: string; manifests: { layers: { digest: string; size: number }[] }[] };

before(async () => {
  work = await tempDir("buildx-step-bad-");
  registry = await startRegistry();
  const context = await sampleContext(join(work.path, "ctx"));
  tarball = await buildTarball({ context, dest: join(work.path, "image.tar"), format: "oci" });
  const inspected = await runCli(["inspect", tarball, "--json"]);
  image = (JSON.parse(inspected.stdout) as { images: (typeof image)[] }).images[0] as typeof image;
});
after(async () => {
  await registry?.stop();
  await work?.remove();
});

/** Every file the registry stores (blobs, repositories, upload sessions). */
async function storedFiles(dir = registry.storage): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  const files: string[] = [];
  for (const entry of entries) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) files.push(...(await storedFiles(path)));
    else files.push(path);
  }
  return files;
}

async function assertRegistryEmpty() {
  const catalog = (await (await fetch(`${registry.url}/v2/_catalog`)).json()) as { repositories: string[] };
  assert.deepEqual(catalog.repositories, []);
  assert.deepEqual(
    (await storedFiles()).filter((f) => !f.includes("/_uploads/")),
    [],
    "no blob, link or manifest stored",
  );
}

function push(source: string, extra: Record<string, string> = {}) {
  return runCli([], {
    env: {
      PLUGIN_PUSH_ONLY: "true",
      PLUGIN_SOURCE_TAR_PATH: source,
      PLUGIN_REPO: `${registry.host}/bad/app`,
      PLUGIN_TAGS: "v1",
      CI: "true",
      ...extra,
    },
  });
}

test("a corrupted layer: exit 2 naming the blob, nothing in the registry", async () => {
  const bytes = await readFile(tarball);
  const layer = image.manifests[0]?.layers[0];
  assert.ok(layer);
  // The layer's tar header names it; its bytes start at the next 512-byte block.
  const header = bytes.indexOf(Buffer.from(`blobs/sha256/${layer.digest.slice("sha256:".length)}`));
  assert.ok(header >= 0);
  const offset = header + 512 + Math.floor(layer.size / 2);
  bytes[offset] = (bytes[offset] ?? 0) ^ 0xff;
  const corrupted = join(work.path, "corrupted.tar");
  await writeFile(corrupted, bytes);
  const result = await push(corrupted);
  assert.equal(result.code, 2, result.stderr);
  assert.match(result.stderr, new RegExp(`${layer.digest}.*corrupted`));
  await assertRegistryEmpty();
});

test("a truncated tarball: exit 2 before anything is sent", async () => {
  const truncated = join(work.path, "truncated.tar");
  await writeFile(truncated, await readFile(tarball));
  await truncate(truncated, Math.floor((await stat(truncated)).size * 0.6));
  const result = await push(truncated);
  assert.equal(result.code, 2, result.stderr);
  assert.match(result.stderr, /truncated\.tar/);
  await assertRegistryEmpty();
});

test("a wrong PLUGIN_EXPECTED_DIGEST: exit 2 with both digests", async () => {
  const wrong = `sha256:${"0".repeat(64)}`;
  const result = await push(tarball, { PLUGIN_EXPECTED_DIGEST: wrong });
  assert.equal(result.code, 2, result.stderr);
  assert.match(result.stderr, /PLUGIN_EXPECTED_DIGEST/);
  assert.ok(result.stderr.includes(wrong) && result.stderr.includes(image.digest), result.stderr);
  await assertRegistryEmpty();
});

test("several images and no PLUGIN_SOURCE_IMAGE: exit 2 listing them; naming one pushes it", async () => {
  const names = [`buildx-step-test/multi-a-${Date.now()}:1`, `buildx-step-test/multi-b-${Date.now()}:1`];
  for (const [i, name] of names.entries()) {
    const context = await sampleContext(join(work.path, `multi-${i}`));
    await exec("docker", ["buildx", "build", "--quiet", "--load", "-t", name, context]);
  }
  const several = join(work.path, "several.tar");
  try {
    await exec("docker", ["save", "-o", several, ...names]);
  } finally {
    await exec("docker", ["rmi", ...names]).catch(() => undefined);
  }
  const inspected = await runCli(["inspect", several, "--json"]);
  const images = (JSON.parse(inspected.stdout) as { images: { names: string[]; digest: string }[] }).images;
  assert.equal(images.length, 2);

  const ambiguous = await push(several);
  assert.equal(ambiguous.code, 2, ambiguous.stderr);
  assert.match(ambiguous.stderr, /PLUGIN_SOURCE_IMAGE/);
  for (const candidate of images) assert.ok(ambiguous.stderr.includes(candidate.digest), ambiguous.stderr);
  for (const name of names)
    assert.ok(ambiguous.stderr.includes(name.split(":")[0] ?? name), ambiguous.stderr);
  const unknown = await push(several, { PLUGIN_SOURCE_IMAGE: "nothing/like-this:1" });
  assert.equal(unknown.code, 2, unknown.stderr);
  await assertRegistryEmpty();

  const chosen = images.find((i) => i.names.some((n) => n.includes("multi-b")));
  assert.ok(chosen);
  const picked = await push(several, { PLUGIN_SOURCE_IMAGE: names[1] ?? "" });
  assert.equal(picked.code, 0, picked.stderr);
  assert.equal((await registryManifest(`${registry.host}/bad/app:v1`)).digest, chosen.digest);
});
