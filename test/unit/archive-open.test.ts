import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { join } from "node:path";
import { text } from "node:stream/consumers";
import { after, before, test } from "node:test";
import { openArchive } from "../../lib/archive/open.js";
import { exitCodeOf } from "../../lib/errors.js";
import { inspectJson, inspectText } from "../../lib/modes/inspect.js";
import { foreignLayersLine } from "../../lib/modes/push-only.js";
import { ProtocolError } from "../../lib/protocol-error.js";
import {
  blob,
  blobName,
  imageBlobs,
  ociLayoutItems,
  sampleImage,
  type TarItem,
  writeTar,
} from "../helpers/archive-fixtures.js";
import { tempDir } from "../helpers/tmp.js";

const OCI_INDEX = "application/vnd.oci.image.index.v1+json";
const OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
const DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json";

let work: Awaited<ReturnType<typeof tempDir>>;
let counter = 0;
before(async () => {
  work = await tempDir("buildx-step-archive-");
});
after(async () => {
  await work?.remove();
});

function tarPath(): string {
  counter += 1;
  return join(work.path, `image-${counter}.tar`);
}

async function refused(path: string, pattern: RegExp): Promise<void> {
  await assert.rejects(openArchive(path), (error: unknown) => {
    assert.ok(error instanceof ProtocolError, `expected a refusal of the input, got ${String(error)}`);
    assert.equal(exitCodeOf(error), 2);
    assert.ok(error.message.includes(path), `the message names the tarball: ${error.message}`);
    assert.match(error.message, pattern);
    return true;
  });
}

const sha256 = (bytes: Buffer | string) => `sha256:${createHash("sha256").update(bytes).digest("hex")}`;

test("an OCI layout: digest, platform from the config, size, plan and blob bytes", async () => {
  const image = sampleImage({ arch: "arm64" });
  const path = await writeTar(
    tarPath(),
    ociLayoutItems(
      [
        {
          mediaType: OCI_MANIFEST,
          digest: image.manifest.digest,
          size: image.manifest.size,
          annotations: { "org.opencontainers.image.ref.name": "registry.example.com/team/app:v1" },
        },
      ],
      imageBlobs(image),
    ),
  );
  const archive = await openArchive(path);
  assert.equal(archive.format, "oci");
  assert.equal(archive.images.length, 1);
  const [only] = archive.images;
  assert.ok(only);
  assert.deepEqual(only.names, ["registry.example.com/team/app:v1"]);
  assert.deepEqual(only.descriptor, {
    mediaType: OCI_MANIFEST,
    digest: image.manifest.digest,
    size: image.manifest.size,
  });
  assert.deepEqual(only.platforms, ["linux/arm64"]);
  assert.equal(
    only.size,
    imageBlobs(image).reduce((sum, b) => sum + b.size, 0),
  );

  const plan = await archive.plan(only);
  assert.deepEqual(
    plan.blobs.map((b) => b.digest),
    [image.config.digest, ...image.layers.map((l) => l.digest)],
  );
  assert.equal(plan.manifests.length, 1);
  assert.ok(plan.manifests[0]?.bytes.equals(image.manifest.bytes), "the manifest's own bytes, unchanged");
  for (const b of [image.config, ...image.layers]) {
    assert.equal(await text(archive.openBlob(b.digest)), b.bytes.toString());
  }
  assert.throws(() => archive.openBlob(`sha256:${"0".repeat(64)}`), /no blob sha256:0+ in the tarball/);
});

test("buildx's docker format: one image with the names of index.json and manifest.json, each once", async () => {
  const image = sampleImage({ mediaType: DOCKER_MANIFEST, seed: "docker" });
  const entry = (tag: string) => ({
    mediaType: DOCKER_MANIFEST,
    digest: image.manifest.digest,
    size: image.manifest.size,
    platform: { architecture: "amd64", os: "linux" },
    annotations: {
      "io.containerd.image.name": `docker.io/x/app:${tag}`,
      "org.opencontainers.image.ref.name": tag,
    },
  });
  const manifestJson = [
    {
      Config: blobName(image.config),
      RepoTags: ["x/app:1", "x/app:2", "x/app:3"],
      Layers: image.layers.map(blobName),
    },
  ];
  const path = await writeTar(tarPath(), [
    ...ociLayoutItems([entry("1"), entry("2")], imageBlobs(image)),
    { name: "manifest.json", data: JSON.stringify(manifestJson) },
  ]);
  const archive = await openArchive(path);
  assert.equal(archive.format, "docker");
  assert.equal(archive.images.length, 1);
  assert.deepEqual(archive.images[0]?.names, ["docker.io/x/app:1", "docker.io/x/app:2", "x/app:3"]);
  assert.equal(archive.images[0]?.descriptor.digest, image.manifest.digest);
  assert.equal(archive.images[0]?.descriptor.mediaType, DOCKER_MANIFEST);
});

test("a multi-platform index with attestations: platforms exclude them, the plan keeps them, children first", async () => {
  const amd = sampleImage({ arch: "amd64", seed: "multi" });
  const arm = sampleImage({ arch: "arm64", seed: "multi" });
  // Both platforms share one layer, which must be counted and planned once.
  const shared = blob("shared layer");
  for (const img of [amd, arm]) img.layers.push(shared);
  const remanifest = (img: typeof amd) => {
    const doc = JSON.parse(img.manifest.bytes.toString());
    doc.layers.push({
      mediaType: "application/vnd.oci.image.layer.v1.tar+gzip",
      digest: shared.digest,
      size: shared.size,
    });
    img.manifest = blob(doc);
  };
  remanifest(amd);
  remanifest(arm);
  const statement = blob('{"_type":"https://in-toto.io/Statement/v0.1"}');
  const attestationConfig = blob({ architecture: "unknown", os: "unknown" });
  const attestation = blob({
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    config: {
      mediaType: "application/vnd.oci.image.config.v1+json",
      digest: attestationConfig.digest,
      size: attestationConfig.size,
    },
    layers: [{ mediaType: "application/vnd.in-toto+json", digest: statement.digest, size: statement.size }],
  });
  const index = blob({
    schemaVersion: 2,
    mediaType: OCI_INDEX,
    manifests: [
      {
        mediaType: OCI_MANIFEST,
        digest: amd.manifest.digest,
        size: amd.manifest.size,
        platform: { architecture: "amd64", os: "linux" },
      },
      {
        mediaType: OCI_MANIFEST,
        digest: arm.manifest.digest,
        size: arm.manifest.size,
        platform: { architecture: "arm64", os: "linux", variant: "v8" },
      },
      {
        mediaType: OCI_MANIFEST,
        digest: attestation.digest,
        size: attestation.size,
        platform: { architecture: "unknown", os: "unknown" },
        annotations: {
          "vnd.docker.reference.type": "attestation-manifest",
          "vnd.docker.reference.digest": amd.manifest.digest,
        },
      },
    ],
  });
  const blobs = [...imageBlobs(amd), ...imageBlobs(arm), statement, attestationConfig, attestation, index];
  const path = await writeTar(
    tarPath(),
    ociLayoutItems(
      [
        {
          mediaType: OCI_INDEX,
          digest: index.digest,
          size: index.size,
          annotations: { "io.containerd.image.name": "docker.io/x/multi:1" },
        },
      ],
      blobs,
    ),
  );
  const archive = await openArchive(path);
  const [image] = archive.images;
  assert.ok(image);
  assert.equal(image.descriptor.digest, index.digest);
  assert.equal(image.descriptor.mediaType, OCI_INDEX);
  assert.deepEqual(image.platforms, ["linux/amd64", "linux/arm64/v8"]);
  const unique = new Map(blobs.map((b) => [b.digest, b.size]));
  assert.equal(
    image.size,
    [...unique.values()].reduce((a, b) => a + b, 0),
  );
  assert.equal(image.manifests.filter((m) => m.attestation).length, 1);

  const plan = await archive.plan(image);
  assert.deepEqual(
    plan.manifests.map((m) => m.descriptor.digest),
    [amd.manifest.digest, arm.manifest.digest, attestation.digest, index.digest],
  );
  assert.ok(plan.manifests[3]?.bytes.equals(index.bytes));
  const planned = plan.blobs.map((b) => b.digest);
  assert.equal(new Set(planned).size, planned.length, "each blob once");
  assert.equal(planned.filter((d) => d === shared.digest).length, 1);
  assert.ok(planned.includes(statement.digest));
});

test("several images in one layout are listed separately", async () => {
  const one = sampleImage({ seed: "one" });
  const two = sampleImage({ seed: "two" });
  const entry = (img: typeof one, name: string) => ({
    mediaType: OCI_MANIFEST,
    digest: img.manifest.digest,
    size: img.manifest.size,
    annotations: { "io.containerd.image.name": name },
  });
  const path = await writeTar(
    tarPath(),
    ociLayoutItems(
      [entry(one, "docker.io/x/one:1"), entry(two, "docker.io/x/two:1")],
      [...imageBlobs(one), ...imageBlobs(two)],
    ),
  );
  const archive = await openArchive(path);
  assert.deepEqual(
    archive.images.map((i) => [i.names, i.descriptor.digest]),
    [
      [["docker.io/x/one:1"], one.manifest.digest],
      [["docker.io/x/two:1"], two.manifest.digest],
    ],
  );
});

/** A pre-25 `docker save`: `<hex>.json` config, `<id>/layer.tar` (one a symlink to a shared layer), repositories. */
function legacySave(): { items: TarItem[]; layers: Buffer[]; config: Buffer } {
  const layers = [Buffer.from("a".repeat(3000)), Buffer.from("b".repeat(700))];
  const config = Buffer.from(
    JSON.stringify({
      architecture: "amd64",
      os: "linux",
      rootfs: { type: "layers", diff_ids: layers.map((l) => sha256(l)) },
    }),
  );
  const configHex = sha256(config).slice(7);
  const items: TarItem[] = [
    { name: "1111/layer.tar", data: layers[0] },
    { name: "2222/layer.tar", data: layers[1] },
    { name: "3333/layer.tar", type: "symlink", linkname: "../1111/layer.tar" },
    { name: `${configHex}.json`, data: config },
    {
      name: "manifest.json",
      data: JSON.stringify([
        {
          Config: `${configHex}.json`,
          RepoTags: ["old/app:1"],
          Layers: ["1111/layer.tar", "2222/layer.tar"],
        },
        // A second tag of an image made of the same config and layers, listed through the symlink.
        {
          Config: `${configHex}.json`,
          RepoTags: ["old/app:2"],
          Layers: ["3333/layer.tar", "2222/layer.tar"],
        },
      ]),
    },
    { name: "repositories", data: JSON.stringify({ "old/app": { "1": "2222", "2": "2222" } }) },
  ];
  return { items, layers, config };
}

test("a legacy docker save (no index.json): a Docker v2 manifest is made, deterministic, of the archive's bytes", async () => {
  const { items, layers, config } = legacySave();
  const path = await writeTar(tarPath(), items);
  const archive = await openArchive(path);
  assert.equal(archive.format, "docker-save");
  assert.equal(archive.images.length, 1, "the same config and layers are one image");
  const [image] = archive.images;
  assert.ok(image);
  assert.deepEqual(image.names, ["old/app:1", "old/app:2"]);
  assert.deepEqual(image.platforms, ["linux/amd64"]);
  assert.equal(image.descriptor.mediaType, DOCKER_MANIFEST);

  const plan = await archive.plan(image);
  const manifest = plan.manifests[0];
  assert.ok(manifest);
  assert.equal(
    sha256(manifest.bytes),
    image.descriptor.digest,
    "the digest is the sha256 of the manifest's bytes",
  );
  const doc = JSON.parse(manifest.bytes.toString());
  assert.equal(doc.schemaVersion, 2);
  assert.equal(doc.mediaType, DOCKER_MANIFEST);
  assert.deepEqual(doc.config, {
    mediaType: "application/vnd.docker.container.image.v1+json",
    digest: sha256(config),
    size: config.length,
  });
  assert.deepEqual(
    doc.layers,
    layers.map((l) => ({
      mediaType: "application/vnd.docker.image.rootfs.diff.tar",
      digest: sha256(l),
      size: l.length,
    })),
  );
  assert.equal(
    image.size,
    manifest.bytes.length + config.length + layers.reduce((sum, l) => sum + l.length, 0),
  );
  // Layers are read from their own entries, by digest.
  for (const layer of layers) assert.equal(await text(archive.openBlob(sha256(layer))), layer.toString());
  assert.equal(await text(archive.openBlob(sha256(config))), config.toString());

  // The same archive written again gives the same digest.
  const again = await openArchive(await writeTar(tarPath(), legacySave().items));
  assert.equal(again.images[0]?.descriptor.digest, image.descriptor.digest);
});

test("engine 25+ docker save (index.json, manifest.json and repositories): the archive's own manifest is used", async () => {
  const image = sampleImage({ seed: "save25" });
  const path = await writeTar(tarPath(), [
    ...ociLayoutItems(
      [
        {
          mediaType: OCI_MANIFEST,
          digest: image.manifest.digest,
          size: image.manifest.size,
          annotations: { "io.containerd.image.name": "docker.io/x/app:1" },
        },
      ],
      imageBlobs(image),
    ),
    {
      name: "manifest.json",
      data: JSON.stringify([
        { Config: blobName(image.config), RepoTags: ["x/app:1"], Layers: image.layers.map(blobName) },
      ]),
    },
    { name: "repositories", data: "{}" },
  ]);
  const archive = await openArchive(path);
  assert.equal(archive.format, "docker-save");
  assert.equal(archive.images[0]?.descriptor.digest, image.manifest.digest);
  assert.deepEqual(archive.images[0]?.names, ["docker.io/x/app:1"]);
});

/** A manifest.json entry for `image`, as buildx and docker save write it (blob paths). */
function dockerEntry(image: ReturnType<typeof sampleImage>, tags: string[], layers = image.layers) {
  return { Config: blobName(image.config), RepoTags: tags, Layers: layers.map(blobName) };
}

function indexEntry(image: ReturnType<typeof sampleImage>, name?: string) {
  return {
    mediaType: OCI_MANIFEST,
    digest: image.manifest.digest,
    size: image.manifest.size,
    ...(name ? { annotations: { "io.containerd.image.name": name } } : {}),
  };
}

test("manifest.json and index.json describing different images: refused as ambiguous", async () => {
  const a = sampleImage({ seed: "agree-a" });
  const b = sampleImage({ seed: "agree-b" });
  const blobs = [...imageBlobs(a), ...imageBlobs(b)];
  const layout = (entries: object[], manifestJson: object[]) =>
    writeTar(tarPath(), [
      ...ociLayoutItems(entries, blobs),
      { name: "manifest.json", data: JSON.stringify(manifestJson) },
    ]);

  // What docker load and Trivy --input read (B) is not what index.json pushes (A).
  await refused(
    await layout([indexEntry(a, "docker.io/x/app:1")], [dockerEntry(b, ["x/app:1"])]),
    new RegExp(
      `is AMBIGUOUS .*manifest\\.json entry 0 \\(x/app:1\\) is config ${blobName(b.config)} .* which no image manifest of index\\.json has`,
    ),
  );
  // The same blobs in another order are another image.
  await refused(
    await layout([indexEntry(a)], [dockerEntry(a, [], [...a.layers].reverse())]),
    /manifest\.json entry 0 is config .* which no image manifest of index\.json has/,
  );
  // index.json lists an image that manifest.json readers never see.
  await refused(
    await layout(
      [indexEntry(a, "docker.io/x/app:1"), indexEntry(b, "docker.io/x/other:1")],
      [dockerEntry(b, ["x/other:1"])],
    ),
    new RegExp(
      `index\\.json lists ${a.manifest.digest} \\(docker\\.io/x/app:1\\) but manifest\\.json has no entry`,
    ),
  );
  // Both images in both files, but each file gives x/app:1 to another one.
  await refused(
    await layout(
      [indexEntry(a, "docker.io/x/app:1"), indexEntry(b, "docker.io/x/other:1")],
      [dockerEntry(a, ["x/other:1"]), dockerEntry(b, ["x/app:1"])],
    ),
    new RegExp(
      `manifest\\.json entry 0 \\(x/other:1\\) gives x/other:1 to config ${blobName(a.config)}, but index\\.json gives x/other:1 to ${b.manifest.digest}`,
    ),
  );
  await refused(
    await layout([indexEntry(a)], [{ ...dockerEntry(a, []), Layers: ["blobs/sha256/nothing"] }]),
    /manifest\.json entry 0 names layer blobs\/sha256\/nothing, which is not in the tarball/,
  );
});

test("manifest.json for one platform of an index, and shared platforms: accepted, RepoTags on their own image", async () => {
  const amd = sampleImage({ arch: "amd64", seed: "plat" });
  const arm = sampleImage({ arch: "arm64", seed: "plat" });
  const index = blob({
    schemaVersion: 2,
    mediaType: OCI_INDEX,
    manifests: [
      { ...indexEntry(amd), platform: { architecture: "amd64", os: "linux" } },
      { ...indexEntry(arm), platform: { architecture: "arm64", os: "linux" } },
    ],
  });
  // docker save of x/single:1 (a platform manifest alone) and x/multi:1 (an index with that manifest):
  // one manifest.json entry serves both, tagged with the index's name only, as engine 26 writes it. The
  // tag belongs to the image index.json gives it to, not to the first image that has the config.
  const path = await writeTar(tarPath(), [
    ...ociLayoutItems(
      [
        indexEntry(amd, "docker.io/x/single:1"),
        {
          mediaType: OCI_INDEX,
          digest: index.digest,
          size: index.size,
          annotations: { "io.containerd.image.name": "docker.io/x/multi:1" },
        },
      ],
      [...imageBlobs(amd), ...imageBlobs(arm), index],
    ),
    { name: "manifest.json", data: JSON.stringify([dockerEntry(amd, ["x/multi:1"])]) },
  ]);
  const archive = await openArchive(path);
  assert.deepEqual(
    archive.images.map((i) => [i.descriptor.digest, i.names]),
    [
      [amd.manifest.digest, ["docker.io/x/single:1"]],
      [index.digest, ["docker.io/x/multi:1"]],
    ],
  );
});

test("foreign layers (non-distributable, with URLs): listed apart in the plan, not needed in the tarball", async () => {
  const config = blob({ architecture: "amd64", os: "windows", rootfs: { type: "layers", diff_ids: [] } });
  const local = blob("a layer the tarball holds");
  const urls = ["https://mcr.example.com/windows/base.tar.gz"];
  const foreignLayers = [
    {
      mediaType: "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
      digest: `sha256:${"a".repeat(64)}`,
      size: 1000,
      urls,
    },
    {
      mediaType: "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd",
      digest: `sha256:${"b".repeat(64)}`,
      size: 2000,
      urls,
    },
    {
      mediaType: "application/vnd.oci.image.layer.nondistributable.v1.tar",
      digest: `sha256:${"c".repeat(64)}`,
      size: 3000,
      urls,
    },
    {
      mediaType: "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
      digest: `sha256:${"d".repeat(64)}`,
      size: 4000,
      urls,
    },
  ];
  const manifest = blob({
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    config: {
      mediaType: "application/vnd.oci.image.config.v1+json",
      digest: config.digest,
      size: config.size,
    },
    layers: [
      ...foreignLayers,
      { mediaType: "application/vnd.oci.image.layer.v1.tar+gzip", digest: local.digest, size: local.size },
    ],
  });
  const top = { mediaType: OCI_MANIFEST, digest: manifest.digest, size: manifest.size };
  const archive = await openArchive(
    await writeTar(tarPath(), ociLayoutItems([top], [config, local, manifest])),
  );
  const [image] = archive.images;
  assert.ok(image);
  const plan = await archive.plan(image);
  assert.deepEqual(
    plan.blobs.map((b) => b.digest),
    [config.digest, local.digest],
  );
  assert.deepEqual(plan.foreign, foreignLayers);
  assert.equal(
    image.size,
    config.size + local.size + manifest.size,
    "foreign layers are not in the tarball's size",
  );
  assert.ok(
    plan.manifests[0]?.bytes.equals(manifest.bytes),
    "the manifest, URLs included, is pushed unchanged",
  );

  const json = inspectJson(archive);
  assert.deepEqual(json.images[0]?.manifests[0]?.layers[0], { ...foreignLayers[0], foreign: true });
  assert.equal(json.images[0]?.manifests[0]?.layers[4]?.foreign, undefined);
  const text = inspectText(archive);
  assert.equal((text.match(/^ +foreign sha256:/gm) ?? []).length, 4);
  assert.match(text, /not uploaded: fetched from https:\/\/mcr\.example\.com\/windows\/base\.tar\.gz/);
  assert.match(
    foreignLayersLine(plan.foreign ?? []),
    /^4 foreign layers not uploaded: sha256:a{64} \(1.0 kB, from https:\/\/mcr/,
  );

  // Without URLs the registry needs the blob: the tarball must hold it.
  const [firstForeign] = foreignLayers;
  assert.ok(firstForeign);
  const { urls: _urls, ...withoutUrls } = firstForeign;
  const needsBlob = blob({
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    config: {
      mediaType: "application/vnd.oci.image.config.v1+json",
      digest: config.digest,
      size: config.size,
    },
    layers: [withoutUrls],
  });
  await refused(
    await writeTar(
      tarPath(),
      ociLayoutItems([{ ...top, digest: needsBlob.digest, size: needsBlob.size }], [config, needsBlob]),
    ),
    /has the non-distributable layer sha256:a{64} without URLs: a registry accepts the manifest only with that blob/,
  );
  const badUrls = blob({
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    config: {
      mediaType: "application/vnd.oci.image.config.v1+json",
      digest: config.digest,
      size: config.size,
    },
    layers: [{ ...firstForeign, urls: "https://x" }],
  });
  await refused(
    await writeTar(
      tarPath(),
      ociLayoutItems([{ ...top, digest: badUrls.digest, size: badUrls.size }], [config, badUrls]),
    ),
    /gives sha256:a{64} a malformed "urls"/,
  );
});

test("JSON keys that Go's encoding/json folds into one: refused as ambiguous; maps and labels may differ in case", async () => {
  const a = sampleImage({ seed: "fold-a" });
  const b = sampleImage({ seed: "fold-b" });
  const entry = (image: typeof a) => ({
    mediaType: OCI_MANIFEST,
    digest: image.manifest.digest,
    size: image.manifest.size,
  });
  // JSON.parse keeps "manifests" (A); Go matches "Manifests" to the same field and keeps the last (B).
  const twoIndexes = JSON.stringify({ schemaVersion: 2, manifests: [entry(a)], Manifests: [entry(b)] });
  await refused(
    await writeTar(tarPath(), [
      ...ociLayoutItems([], [...imageBlobs(a), ...imageBlobs(b)]).filter((i) => i.name !== "index.json"),
      { name: "index.json", data: twoIndexes },
    ]),
    /index\.json has the keys "manifests" and "Manifests" in one object: Go's encoding\/json .* takes the last/,
  );
  // The long s folds to "s" in Go: "layerſ" is "layers".
  const doc = JSON.parse(a.manifest.bytes.toString());
  const sneaky = blob(
    `${JSON.stringify(doc).slice(0, -1)},"layer\u017f":${JSON.stringify(JSON.parse(b.manifest.bytes.toString()).layers)}}`,
  );
  await refused(
    await writeTar(
      tarPath(),
      ociLayoutItems(
        [{ ...entry(a), digest: sneaky.digest, size: sneaky.size }],
        [...imageBlobs(a), ...imageBlobs(b), sneaky],
      ),
    ),
    /has the keys "layers" and "layer\u017f" in one object/,
  );
  // Annotations are a map to Go (keys matched exactly), and labels in a config are not read.
  const labelled = blob({
    architecture: "amd64",
    os: "linux",
    config: { Labels: { maintainer: "a", Maintainer: "b" } },
    rootfs: { type: "layers", diff_ids: [] },
  });
  const manifest = blob({
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    annotations: { "x.title": "a", "X.Title": "b" },
    config: {
      mediaType: "application/vnd.oci.image.config.v1+json",
      digest: labelled.digest,
      size: labelled.size,
    },
    layers: [],
  });
  const archive = await openArchive(
    await writeTar(
      tarPath(),
      ociLayoutItems(
        [
          {
            mediaType: OCI_MANIFEST,
            digest: manifest.digest,
            size: manifest.size,
            annotations: { a: "1", A: "2" },
          },
        ],
        [labelled, manifest],
      ),
    ),
  );
  assert.deepEqual(archive.images[0]?.platforms, ["linux/amd64"]);
});

test("a layout made by tar from a folder (./ names, folder entries) reads the same", async () => {
  const image = sampleImage({ seed: "dot" });
  const items = ociLayoutItems(
    [{ mediaType: OCI_MANIFEST, digest: image.manifest.digest, size: image.manifest.size }],
    imageBlobs(image),
  );
  const path = await writeTar(tarPath(), [
    { name: "./", type: "directory" },
    { name: "./blobs/", type: "directory" },
    ...items.map((i) => ({ ...i, name: `./${i.name}` })),
  ]);
  const archive = await openArchive(path);
  assert.equal(archive.images[0]?.descriptor.digest, image.manifest.digest);
  assert.deepEqual(archive.images[0]?.names, []);
});

test("broken layouts are refused with the tarball and the problem named", async () => {
  const image = sampleImage({ seed: "broken" });
  const top = { mediaType: OCI_MANIFEST, digest: image.manifest.digest, size: image.manifest.size };

  await refused(
    await writeTar(tarPath(), [{ name: "hello.txt", data: "hi" }]),
    /neither index\.json .* nor manifest\.json/,
  );

  const [firstLayer, ...otherLayers] = image.layers;
  assert.ok(firstLayer);
  const withoutLayer = ociLayoutItems([top], [image.config, image.manifest, ...otherLayers]);
  await refused(
    await writeTar(tarPath(), withoutLayer),
    new RegExp(`refers to ${firstLayer.digest} but ${blobName(firstLayer)} is not in the tarball`),
  );

  await refused(
    await writeTar(tarPath(), ociLayoutItems([{ ...top, size: top.size + 1 }], imageBlobs(image))),
    new RegExp(`has ${image.manifest.size} bytes but index\\.json says ${image.manifest.size + 1}`),
  );

  // The blob stored under the manifest's name is not the manifest (same size, other bytes).
  const tampered = ociLayoutItems([top], imageBlobs(image)).map((item) =>
    item.name === blobName(image.manifest)
      ? {
          ...item,
          data: Buffer.from(image.manifest.bytes.toString().replace("schemaVersion", "schemaVersioN")),
        }
      : item,
  );
  await refused(await writeTar(tarPath(), tampered), /does not match its digest/);

  const huge = Buffer.alloc(5 * 1024 * 1024, 0x20);
  huge.write('{"manifests":[]}', 0);
  await refused(
    await writeTar(tarPath(), [{ name: "index.json", data: huge }]),
    /index\.json \(index\.json\) is 5242880 bytes, over the 4194304-byte limit/,
  );

  await refused(
    await writeTar(tarPath(), [{ name: "index.json", data: "{not json" }]),
    /index\.json is not valid JSON/,
  );
  await refused(await writeTar(tarPath(), ociLayoutItems([], [])), /index\.json lists no images/);
  await refused(
    await writeTar(
      tarPath(),
      ociLayoutItems([{ ...top, digest: "sha256:../../etc/passwd" }], imageBlobs(image)),
    ),
    /malformed digest "sha256:\.\.\/\.\.\/etc\/passwd"/,
  );

  const artifact = blob({ schemaVersion: 2, mediaType: "application/vnd.example.thing" });
  await refused(
    await writeTar(
      tarPath(),
      ociLayoutItems(
        [{ mediaType: "application/vnd.example.thing", digest: artifact.digest, size: artifact.size }],
        [artifact],
      ),
    ),
    /media type application\/vnd\.example\.thing, which is neither an image manifest nor an index/,
  );

  const { items } = legacySave();
  await refused(
    await writeTar(
      tarPath(),
      items.filter((i) => i.name !== "2222/layer.tar"),
    ),
    /names layer 2222\/layer\.tar, which is not in the tarball/,
  );
  await refused(
    await writeTar(tarPath(), [
      ...items.filter((i) => i.name !== "manifest.json"),
      { name: "manifest.json", data: '{"a":1}' },
    ]),
    /manifest\.json is not a list of images/,
  );
});

test("names a tarball records with control characters are shown escaped, on one line", async () => {
  const image = sampleImage({ seed: "controls" });
  const path = await writeTar(
    tarPath(),
    ociLayoutItems(
      [
        {
          mediaType: OCI_MANIFEST,
          digest: image.manifest.digest,
          size: image.manifest.size,
          annotations: {
            "io.containerd.image.name":
              "docker.io/x/app:1\npushed docker.io/x/app:1 at sha256:forged\u001b[2J",
          },
        },
      ],
      imageBlobs(image),
    ),
  );
  const archive = await openArchive(path);
  assert.deepEqual(archive.images[0]?.names, [
    "docker.io/x/app:1\\npushed docker.io/x/app:1 at sha256:forged\\x1b[2J",
  ]);
  const shown = inspectText(archive);
  assert.ok(!shown.includes("\u001b") && !shown.includes("\npushed"), shown);
  await archive.close();
});
