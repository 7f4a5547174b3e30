// `buildx-step inspect TAR` as a user runs it: a new process on tarballs buildx wrote, its digest checked
// against the archive's index.json as GNU tar reads it; bad tarballs end with exit code 2 and a message.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { copyFile, truncate, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { runCli } from "../helpers/cli.js";
import { buildTarball, sampleContext } from "../helpers/images.js";
import { tempDir } from "../helpers/tmp.js";

let work: Awaited<ReturnType<typeof tempDir>>;
let single: string;
let multi: string;

before(async () => {
  work = await tempDir("buildx-step-inspect-");
  const context = await sampleContext(join(work.path, "ctx"));
  single = await buildTarball({
    context,
    dest: join(work.path, "single.tar"),
    format: "docker",
    tags: ["x/inspect:1", "x/inspect:2"],
  });
  multi = await buildTarball({
    context,
    dest: join(work.path, "multi.tar"),
    format: "oci",
    tags: ["x/inspect:multi"],
    platforms: ["linux/amd64", "linux/arm64"],
  });
});
after(async () => {
  await work?.remove();
});

function indexDigest(tarball: string): string {
  return JSON.parse(execFileSync("tar", ["-xOf", tarball, "index.json"]).toString()).manifests[0].digest;
}

test("inspect --json prints the issue's shape with the digest index.json records", async () => {
  const result = await runCli(["inspect", "--json", single]);
  assert.equal(result.code, 0, result.stderr);
  const json = JSON.parse(result.stdout);
  assert.equal(json.format, "docker");
  assert.equal(json.images.length, 1);
  const [image] = json.images;
  assert.deepEqual(Object.keys(image).slice(0, 5), ["names", "digest", "mediaType", "platforms", "size"]);
  assert.deepEqual(image.names, ["docker.io/x/inspect:1", "docker.io/x/inspect:2"]);
  assert.equal(image.digest, indexDigest(single));
  assert.equal(image.mediaType, "application/vnd.docker.distribution.manifest.v2+json");
  assert.deepEqual(image.platforms, ["linux/amd64"]);
  assert.equal(typeof image.size, "number");
  assert.ok(image.size > 1_000_000, "busybox is in it");
  assert.equal(image.manifests[0].layers.length, 2);
});

test("inspect --json on a multi-platform OCI tarball: the index digest and both platforms", async () => {
  const result = await runCli(["inspect", "--json", multi]);
  assert.equal(result.code, 0, result.stderr);
  const [image] = JSON.parse(result.stdout).images;
  assert.equal(image.digest, indexDigest(multi));
  assert.equal(image.mediaType, "application/vnd.oci.image.index.v1+json");
  assert.deepEqual(image.platforms, ["linux/amd64", "linux/arm64"]);
  assert.equal(image.manifests.filter((m: { attestation: boolean }) => m.attestation).length, 2);
});

test("inspect without --json: format, names, digest, platforms, size and layers for people", async () => {
  const result = await runCli(["inspect", multi]);
  assert.equal(result.code, 0, result.stderr);
  const digest = indexDigest(multi);
  assert.match(result.stdout, /: tarball, OCI image layout, 1 image/);
  assert.match(result.stdout, /image docker\.io\/x\/inspect:multi/);
  assert.ok(result.stdout.includes(`digest      ${digest}`));
  assert.match(result.stdout, /platforms {3}linux\/amd64, linux\/arm64/);
  assert.match(result.stdout, /size {8}[\d.]+ MB \(\d+ bytes\)/);
  assert.equal(
    (result.stdout.match(/^ +layer /gm) ?? []).length,
    6,
    "2 layers x 2 platforms + 1 per attestation",
  );
  assert.match(result.stdout, /attestation sha256:[a-f0-9]{64} \(for sha256:/);
});

test("bad tarballs: exit code 2, the file named, what is wrong, no stack trace", async () => {
  const cases: [string, RegExp][] = [];
  const missing = join(work.path, "nope.tar");
  cases.push([missing, /no such file/]);
  const text = join(work.path, "text.tar");
  await writeFile(text, "not a tarball at all\n".repeat(50));
  cases.push([text, /is not a tar file/]);
  const cut = join(work.path, "cut.tar");
  await copyFile(single, cut);
  await truncate(cut, 600_000);
  cases.push([cut, /truncated/]);
  for (const [path, pattern] of cases) {
    const result = await runCli(["inspect", "--json", path]);
    assert.equal(result.code, 2, `${path}: ${result.stderr}`);
    // With --json the failure is one JSON object on stdout too, for scripts.
    const { error } = JSON.parse(result.stdout);
    assert.equal(error.exitCode, 2);
    assert.ok(error.message.includes(path));
    assert.match(error.message, pattern);
    assert.ok(result.stderr.includes(path), result.stderr);
    assert.match(result.stderr, pattern);
    assert.doesNotMatch(result.stderr, /\n\s+at /, "no stack trace");
  }
});
