// Proves the test harness: a real engine builds with real buildx to a tarball, and the tarball reaches a
// real registry on loopback, which serves it at the digest the tarball records.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { buildTarball, registryManifest, sampleContext } from "../helpers/images.js";
import { type RegistryServer, startRegistry } from "../helpers/registry.js";
import { tempDir } from "../helpers/tmp.js";

let registry: RegistryServer;
let work: Awaited<ReturnType<typeof tempDir>>;

before(async () => {
  registry = await startRegistry();
  work = await tempDir();
});
after(async () => {
  await registry?.stop();
  await work?.remove();
});

test("the engine answers and has buildx", () => {
  const version = execFileSync("docker", ["buildx", "version"]).toString();
  assert.match(version, /buildx/);
  const driver = execFileSync("docker", ["info", "--format", "{{.Driver}}"]).toString().trim();
  assert.ok(driver.length > 0);
});

test("an image built to a tarball by buildx reaches the registry at the tarball's digest", async () => {
  const context = await sampleContext(join(work.path, "ctx"));
  const tarball = await buildTarball({ context, dest: join(work.path, "image.tar"), format: "oci" });
  const index = JSON.parse(execFileSync("tar", ["-xOf", tarball, "index.json"]).toString()) as {
    manifests: { digest: string }[];
  };
  const digest = index.manifests[0]?.digest;
  assert.match(digest ?? "", /^sha256:[0-9a-f]{64}$/);
  execFileSync("skopeo", [
    "copy",
    "--quiet",
    "--preserve-digests",
    "--dest-tls-verify=false",
    `oci-archive:${tarball}`,
    `docker://${registry.host}/harness/sample:v1`,
  ]);
  const served = await registryManifest(`${registry.host}/harness/sample:v1`);
  assert.equal(served.digest, digest);
  assert.ok(readFileSync(tarball).length > 1000);
});
