// A 1 GiB layer in a tarball: indexing reads headers only (milliseconds, not a GiB of I/O), and the layer
// streams from its byte range with flat memory. The layer is a hole in a sparse file, so the test costs
// no GiB of disk writes; its digest is computed here independently.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { open } from "node:fs/promises";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { openArchive } from "../../lib/archive/open.js";
import { indexTar } from "../../lib/archive/tar-index.js";
import { blob, blobName } from "../helpers/archive-fixtures.js";
import { ustarHeader } from "../helpers/raw-tar.js";
import { tempDir } from "../helpers/tmp.js";

const GIB = 1024 * 1024 * 1024;

let work: Awaited<ReturnType<typeof tempDir>>;
let path: string;
let layerDigest: string;
/** Layer + config + manifest. */
let expectedSize: number;

before(async () => {
  work = await tempDir("buildx-step-archive-large-");
  path = join(work.path, "large.tar");
  const zeros = Buffer.alloc(1024 * 1024);
  const hash = createHash("sha256");
  for (let i = 0; i < 1024; i++) hash.update(zeros);
  layerDigest = `sha256:${hash.digest("hex")}`;
  const layer = { digest: layerDigest, size: GIB };
  const config = blob({ architecture: "amd64", os: "linux", rootfs: { type: "layers", diff_ids: [] } });
  const manifest = blob({
    schemaVersion: 2,
    mediaType: "application/vnd.oci.image.manifest.v1+json",
    config: {
      mediaType: "application/vnd.oci.image.config.v1+json",
      digest: config.digest,
      size: config.size,
    },
    layers: [{ mediaType: "application/vnd.oci.image.layer.v1.tar", digest: layer.digest, size: layer.size }],
  });
  const index = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      manifests: [
        {
          mediaType: "application/vnd.oci.image.manifest.v1+json",
          digest: manifest.digest,
          size: manifest.size,
        },
      ],
    }),
  );
  expectedSize = GIB + config.size + manifest.size;
  const file = await open(path, "w");
  let at = 0;
  const put = async (name: string, size: number, data?: Buffer) => {
    await file.write(ustarHeader(name, size), 0, 512, at);
    at += 512;
    if (data) await file.write(data, 0, data.length, at);
    at += Math.ceil(size / 512) * 512;
  };
  // The layer first: every later header sits past the GiB.
  await put(blobName(layer), GIB);
  await put(blobName(config), config.size, config.bytes);
  await put(blobName(manifest), manifest.size, manifest.bytes);
  await put("index.json", index.length, index);
  await file.truncate(at + 1024);
  await file.close();
});
after(async () => {
  await work?.remove();
});

test("a tarball with a 1 GiB layer indexes in milliseconds, without reading the layer", async () => {
  const started = performance.now();
  const index = await indexTar(path);
  const indexMs = performance.now() - started;
  const openStarted = performance.now();
  const archive = await openArchive(path);
  const openMs = performance.now() - openStarted;
  console.log(
    `# indexing ${index.fileSize} bytes: ${indexMs.toFixed(1)} ms; openArchive: ${openMs.toFixed(1)} ms`,
  );
  assert.ok(index.fileSize > GIB);
  assert.equal(index.file(`blobs/sha256/${layerDigest.slice(7)}`)?.size, GIB);
  // Reading a GiB takes seconds even from the page cache; a header walk takes milliseconds.
  assert.ok(indexMs < 200, `indexing took ${indexMs} ms`);
  assert.ok(openMs < 500, `openArchive took ${openMs} ms`);
  assert.equal(archive.images[0]?.size, expectedSize);
});

test("the 1 GiB layer streams from its byte range with flat memory and hashes to its digest", async () => {
  const archive = await openArchive(path);
  const rssBefore = process.memoryUsage().rss;
  let peak = rssBefore;
  const hash = createHash("sha256");
  let bytes = 0;
  for await (const chunk of archive.openBlob(layerDigest)) {
    hash.update(chunk as Buffer);
    bytes += (chunk as Buffer).length;
    peak = Math.max(peak, process.memoryUsage().rss);
  }
  assert.equal(bytes, GIB);
  assert.equal(`sha256:${hash.digest("hex")}`, layerDigest);
  const grownMiB = (peak - rssBefore) / 1024 / 1024;
  console.log(`# streaming 1 GiB: resident memory grew by ${grownMiB.toFixed(1)} MiB at most`);
  assert.ok(grownMiB < 100, `memory grew by ${grownMiB} MiB`);
});
