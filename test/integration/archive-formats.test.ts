// openArchive on tarballs written by the real tools: buildx's docker and oci exporters (single- and
// multi-platform with attestations) and `docker save` on the classic image store. Every digest is
// checked against an independent source: the archive's index.json read by GNU tar, the engine that
// loads the tarball, or a registry that skopeo pushed the archive to with --preserve-digests.
import assert from "node:assert/strict";
import { execFile, execFileSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { mkdir, readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Readable } from "node:stream";
import { after, before, test } from "node:test";
import { promisify } from "node:util";
import { openArchive } from "../../lib/archive/open.js";
import type { ImageArchive, OpenedImage } from "../../lib/archive/types.js";
import { classicEngineHost, runImage } from "../helpers/engine.js";
import { buildTarball, registryManifest, sampleContext } from "../helpers/images.js";
import { type RegistryServer, startRegistry } from "../helpers/registry.js";
import { tempDir } from "../helpers/tmp.js";

const exec = promisify(execFile);
const sha256 = (bytes: Buffer) => `sha256:${createHash("sha256").update(bytes).digest("hex")}`;

let registry: RegistryServer;
let work: Awaited<ReturnType<typeof tempDir>>;
const unique = randomBytes(4).toString("hex");

before(async () => {
  registry = await startRegistry();
  work = await tempDir("buildx-step-archive-formats-");
});
after(async () => {
  await registry?.stop();
  await work?.remove();
});

/** index.json as GNU tar extracts it: the independent reading of the archive's top descriptors. */
function tarIndexJson(tarball: string): { manifests: { digest: string; mediaType: string }[] } {
  return JSON.parse(execFileSync("tar", ["-xOf", tarball, "index.json"]).toString());
}

/** Streams every blob of the image's push plan from the archive and checks it against its digest and size. */
async function assertPlanBytes(archive: ImageArchive, image: OpenedImage): Promise<void> {
  const plan = await archive.plan(image);
  for (const descriptor of plan.blobs) {
    const hash = createHash("sha256");
    let size = 0;
    for await (const chunk of archive.openBlob(descriptor.digest)) {
      hash.update(chunk as Buffer);
      size += (chunk as Buffer).length;
    }
    assert.equal(`sha256:${hash.digest("hex")}`, descriptor.digest);
    assert.equal(size, descriptor.size);
  }
  for (const manifest of plan.manifests) assert.equal(sha256(manifest.bytes), manifest.descriptor.digest);
  assert.equal(plan.manifests.at(-1)?.descriptor.digest, image.descriptor.digest, "the top is pushed last");
}

test("buildx type=docker: the Docker v2 manifest index.json records, as the engine loads it", async () => {
  const context = await sampleContext(join(work.path, "docker-ctx"));
  const tag = `buildx-step-test/archive-${unique}:1`;
  const tags = [tag, `buildx-step-test/archive-${unique}:2`];
  const tarball = await buildTarball({
    context,
    dest: join(work.path, "docker.tar"),
    format: "docker",
    tags,
  });
  const archive = await openArchive(tarball);
  assert.equal(archive.format, "docker");
  assert.equal(archive.images.length, 1);
  const [image] = archive.images;
  assert.ok(image);
  const recorded = tarIndexJson(tarball).manifests[0];
  assert.equal(image.descriptor.digest, recorded?.digest);
  assert.equal(image.descriptor.mediaType, "application/vnd.docker.distribution.manifest.v2+json");
  assert.deepEqual(
    image.names,
    tags.map((t) => `docker.io/${t}`),
  );
  assert.deepEqual(image.platforms, [`linux/${process.arch === "x64" ? "amd64" : process.arch}`]);
  const manifestBytes = execFileSync("tar", [
    "-xOf",
    tarball,
    `blobs/sha256/${image.descriptor.digest.slice(7)}`,
  ]);
  assert.equal(
    image.size,
    manifestBytes.length +
      (image.manifests[0]?.config.size ?? 0) +
      (image.manifests[0]?.layers ?? []).reduce((s, l) => s + l.size, 0),
  );
  await assertPlanBytes(archive, image);

  // The containerd image store names a loaded image by its manifest digest.
  await exec("docker", ["load", "-q", "-i", tarball]);
  try {
    const { stdout } = await exec("docker", ["image", "inspect", "--format", "{{.Id}}", tag]);
    assert.equal(stdout.trim(), image.descriptor.digest);
  } finally {
    await exec("docker", ["image", "rm", ...tags]).catch(() => undefined);
  }
});

test("buildx type=oci: the digest skopeo publishes with --preserve-digests", async () => {
  const context = await sampleContext(join(work.path, "oci-ctx"));
  const tarball = await buildTarball({
    context,
    dest: join(work.path, "oci.tar"),
    format: "oci",
    tags: ["x/oci:1"],
  });
  const archive = await openArchive(tarball);
  assert.equal(archive.format, "oci");
  const [image] = archive.images;
  assert.ok(image);
  assert.equal(image.descriptor.digest, tarIndexJson(tarball).manifests[0]?.digest);
  assert.equal(image.descriptor.mediaType, "application/vnd.oci.image.manifest.v1+json");
  assert.deepEqual(image.names, ["docker.io/x/oci:1"]);
  const ref = `${registry.host}/archive/oci:v1`;
  await exec("skopeo", [
    "copy",
    "--quiet",
    "--preserve-digests",
    "--dest-tls-verify=false",
    `oci-archive:${tarball}`,
    `docker://${ref}`,
  ]);
  assert.equal((await registryManifest(ref)).digest, image.descriptor.digest);
  await assertPlanBytes(archive, image);
});

test("buildx type=oci multi-platform: the index digest, two platforms, attestations pushed but not listed", async () => {
  const context = await sampleContext(join(work.path, "multi-ctx"));
  const tarball = await buildTarball({
    context,
    dest: join(work.path, "multi.tar"),
    format: "oci",
    tags: ["x/multi:1"],
    platforms: ["linux/amd64", "linux/arm64"],
  });
  const archive = await openArchive(tarball);
  const [image] = archive.images;
  assert.ok(image);
  assert.equal(image.descriptor.mediaType, "application/vnd.oci.image.index.v1+json");
  assert.equal(image.descriptor.digest, tarIndexJson(tarball).manifests[0]?.digest);
  assert.deepEqual(image.platforms, ["linux/amd64", "linux/arm64"]);
  assert.equal(image.manifests.filter((m) => m.attestation).length, 2);
  const ref = `${registry.host}/archive/multi:v1`;
  await exec("skopeo", [
    "copy",
    "--quiet",
    "--all",
    "--preserve-digests",
    "--dest-tls-verify=false",
    `oci-archive:${tarball}`,
    `docker://${ref}`,
  ]);
  const served = await registryManifest(ref);
  assert.equal(served.digest, image.descriptor.digest);
  // Every manifest the served index lists is in the push plan (attestations included), before the index.
  const plan = await archive.plan(image);
  const planned = plan.manifests.map((m) => m.descriptor.digest);
  for (const child of served.json.manifests as { digest: string }[]) {
    assert.ok(
      planned.indexOf(child.digest) >= 0 && planned.indexOf(child.digest) < planned.length - 1,
      child.digest,
    );
  }
  assert.ok(
    plan.manifests.at(-1)?.bytes.equals(served.raw),
    "the index's bytes are the ones the registry serves",
  );
  await assertPlanBytes(archive, image);
});

test("docker save on the classic store (engine 25+): the archive's own OCI manifest, all tags, uncompressed layers", async () => {
  const host = await classicEngineHost();
  const env = { ...process.env, DOCKER_HOST: host };
  const context = await sampleContext(join(work.path, "save-ctx"));
  const [tag, tag2] = [`buildx-step-test/save-${unique}:1`, `buildx-step-test/save-${unique}:2`];
  const tags = [tag, tag2];
  await exec("docker", ["buildx", "build", "--quiet", "--load", "-t", tag, context], { env });
  await exec("docker", ["tag", tag, tag2], { env });
  const tarball = join(work.path, "save.tar");
  try {
    await exec("docker", ["save", "-o", tarball, ...tags], { env });
  } finally {
    await exec("docker", ["image", "rm", ...tags], { env }).catch(() => undefined);
  }
  const archive = await openArchive(tarball);
  assert.equal(archive.format, "docker-save");
  assert.equal(archive.images.length, 1);
  const [image] = archive.images;
  assert.ok(image);
  assert.equal(image.descriptor.digest, tarIndexJson(tarball).manifests[0]?.digest);
  assert.deepEqual(
    image.names,
    tags.map((t) => `docker.io/${t}`),
  );
  assert.ok(
    image.manifests[0]?.layers.every((l) => l.mediaType === "application/vnd.oci.image.layer.v1.tar"),
  );
  const ref = `${registry.host}/archive/save:v1`;
  await exec("skopeo", [
    "copy",
    "--quiet",
    "--preserve-digests",
    "--dest-tls-verify=false",
    `oci-archive:${tarball}:1`,
    `docker://${ref}`,
  ]);
  assert.equal((await registryManifest(ref)).digest, image.descriptor.digest);
  await assertPlanBytes(archive, image);

  // The same archive in the layout engines before 25 wrote (no index.json: `<id>/layer.tar`,
  // `<config hex>.json`), made from the real one; the classic engine loads it, so it is a real legacy
  // archive. Its manifest is made by the reader: layers are the tars as saved, digests their sha256.
  const legacyDir = join(work.path, "legacy");
  await mkdir(legacyDir, { recursive: true });
  execFileSync("tar", ["-xf", tarball, "-C", legacyDir]);
  const saved = JSON.parse(await readFile(join(legacyDir, "manifest.json"), "utf8"))[0] as {
    Config: string;
    Layers: string[];
  };
  const configHex = saved.Config.split("/").pop() ?? "";
  await rename(join(legacyDir, saved.Config), join(legacyDir, `${configHex}.json`));
  const layers: string[] = [];
  for (const [i, layer] of saved.Layers.entries()) {
    await mkdir(join(legacyDir, `layer${i}`));
    await rename(join(legacyDir, layer), join(legacyDir, `layer${i}`, "layer.tar"));
    layers.push(`layer${i}/layer.tar`);
  }
  await writeFile(
    join(legacyDir, "manifest.json"),
    JSON.stringify([{ Config: `${configHex}.json`, RepoTags: [tag], Layers: layers }]),
  );
  for (const name of ["index.json", "oci-layout", "blobs"])
    await rm(join(legacyDir, name), { recursive: true, force: true });
  const legacy = join(work.path, "legacy.tar");
  execFileSync("tar", ["-cf", legacy, "-C", legacyDir, ...(await readdir(legacyDir))]);
  const loaded = await exec("docker", ["load", "-i", legacy], { env });
  assert.match(loaded.stdout, /Loaded image/);
  await exec("docker", ["image", "rm", tag], { env }).catch(() => undefined);

  const legacyArchive = await openArchive(legacy);
  assert.equal(legacyArchive.format, "docker-save");
  const [legacyImage] = legacyArchive.images;
  assert.ok(legacyImage);
  assert.deepEqual(legacyImage.names, [tag]);
  assert.equal(legacyImage.descriptor.mediaType, "application/vnd.docker.distribution.manifest.v2+json");
  const manifest = legacyImage.manifests[0];
  assert.ok(manifest);
  assert.equal(manifest.config.digest, `sha256:${configHex}`);
  // The same layer bytes as the OCI form: the same digests, now as Docker uncompressed layers.
  assert.deepEqual(
    manifest.layers.map((l) => [l.digest, l.size, l.mediaType]),
    (image.manifests[0]?.layers ?? []).map((l) => [
      l.digest,
      l.size,
      "application/vnd.docker.image.rootfs.diff.tar",
    ]),
  );
  await assertPlanBytes(legacyArchive, legacyImage);

  // The made manifest is a valid image: a registry takes it with the archive's bytes, serves it at the
  // digest inspect reports, and the engine pulls and runs it.
  const legacyRef = `${registry.host}/archive/legacy:v1`;
  await pushPlan(registry.url, "archive/legacy", "v1", legacyArchive, legacyImage);
  assert.equal((await registryManifest(legacyRef)).digest, legacyImage.descriptor.digest);
  await exec("docker", ["pull", "-q", legacyRef]);
  try {
    assert.equal(await runImage(legacyRef), await readFile(join(context, "unique.txt"), "utf8"));
  } finally {
    await exec("docker", ["image", "rm", legacyRef]).catch(() => undefined);
  }
});

/**
 * A minimal push of a plan, straight through the distribution API (monolithic uploads), so that this
 * test checks the archive reader alone: https://distribution.github.io/distribution/spec/api/
 */
async function pushPlan(
  url: string,
  repository: string,
  tag: string,
  archive: ImageArchive,
  image: OpenedImage,
) {
  const plan = await archive.plan(image);
  for (const blob of plan.blobs) {
    const started = await fetch(`${url}/v2/${repository}/blobs/uploads/`, { method: "POST" });
    assert.equal(started.status, 202);
    const location = new URL(started.headers.get("location") ?? "", url);
    location.searchParams.set("digest", blob.digest);
    const put = await fetch(location, {
      method: "PUT",
      headers: { "content-type": "application/octet-stream", "content-length": String(blob.size) },
      body: Readable.toWeb(archive.openBlob(blob.digest)) as ReadableStream,
      duplex: "half",
    } as RequestInit);
    assert.equal(put.status, 201, `${blob.digest}: ${await put.text()}`);
  }
  for (const [i, manifest] of plan.manifests.entries()) {
    const last = i === plan.manifests.length - 1;
    const put = await fetch(`${url}/v2/${repository}/manifests/${last ? tag : manifest.descriptor.digest}`, {
      method: "PUT",
      headers: { "content-type": manifest.descriptor.mediaType },
      body: manifest.bytes,
    });
    assert.equal(put.status, 201, await put.text());
    assert.equal(put.headers.get("docker-content-digest"), manifest.descriptor.digest);
  }
}
