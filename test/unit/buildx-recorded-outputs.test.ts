// The parsers of buildx's and the engine's output, on outputs recorded from real buildx 0.13.1 and
// dockerd 26.1.5 with both image stores (test/fixtures/buildx/README.md says how each was captured).
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { bakeTargets } from "../../lib/buildx/bake-metadata.js";
import { isExporterUnsupported, saveWritesOciLayout } from "../../lib/buildx/exporter-support.js";
import { lastErrorLine } from "../../lib/buildx/last-error.js";
import { manifestDigest, readBuildxMetadata } from "../../lib/buildx/metadata.js";
import { transientFailure } from "../../lib/buildx/transient-failure.js";
import { type JsonMessage, JsonMessageSplitter, messageError } from "../../lib/daemon/json-messages.js";
import { collectLoaded, type LoadedImages } from "../../lib/daemon/load.js";
import { EngineProgress, pushedDigestOf } from "../../lib/daemon/progress.js";
import { type EngineInfo, imageStoreOf } from "../../lib/engine/info.js";

const fixture = (name: string) =>
  fileURLToPath(new URL(`../../../test/fixtures/buildx/${name}`, import.meta.url));

async function metadataOf(name: string) {
  return (await readBuildxMetadata(fixture(name))).metadata;
}

async function logLines(name: string): Promise<string[]> {
  return (await readFile(fixture(name), "utf8")).split("\n");
}

async function engineInfo(name: string): Promise<EngineInfo> {
  return JSON.parse(await readFile(fixture(name), "utf8")) as EngineInfo;
}

/** The engine's message stream as it arrives: cut into small chunks, anywhere (in a line, in a character). */
async function engineMessages(name: string): Promise<JsonMessage[]> {
  const bytes = await readFile(fixture(name));
  const splitter = new JsonMessageSplitter();
  const messages: JsonMessage[] = [];
  for (let at = 0; at < bytes.length; at += 7) messages.push(...splitter.push(bytes.subarray(at, at + 7)));
  return [...messages, ...splitter.end()];
}

function descriptorDigest(metadata: Record<string, unknown>): string {
  return (metadata["containerimage.descriptor"] as { digest: string }).digest;
}

test("containerd store, --push: the digest is the pushed index's, from the descriptor", async () => {
  const metadata = await metadataOf("build-push.containerd.json");
  assert.equal(
    manifestDigest(metadata),
    "sha256:34a269c532b514affccdc1bc7d164d4ffc44ad68e1cdd2199d67fcafd155dd22",
  );
  assert.equal(manifestDigest(metadata), descriptorDigest(metadata));
});

test("containerd store, --load: the descriptor's digest (the index the image store holds)", async () => {
  const metadata = await metadataOf("build-load.containerd.json");
  assert.equal(
    manifestDigest(metadata),
    "sha256:dd99314925dca2273eaa87121436abceb7adbac08e331484e51ad5ff235451cc",
  );
});

test("an OCI tarball: the descriptor's manifest, not the config's digest beside it", async () => {
  const metadata = await metadataOf("build-oci-tarball.containerd.json");
  assert.equal(
    manifestDigest(metadata),
    "sha256:dff5707f2390a85e6d17249f92618058ae13ad460401a30616c8181df596a828",
  );
  assert.notEqual(manifestDigest(metadata), metadata["containerimage.config.digest"]);
});

test("classic store, --push: no descriptor; containerimage.digest is the manifest the engine pushes", async () => {
  const metadata = await metadataOf("build-push.classic.json");
  assert.equal(metadata["containerimage.descriptor"], undefined);
  const digest = "sha256:64a05b32e2ae9450af4e96c963ba3b9d5529e8d1cea5b5e91a81232b7fe4e989";
  assert.equal(manifestDigest(metadata), digest);
  // The same image pushed by the classic engine itself reports the same manifest.
  const pushed = (await engineMessages("engine-push.classic.jsonl")).map(pushedDigestOf).filter(Boolean);
  assert.deepEqual(pushed, [
    { tag: "v1", digest },
    { tag: "v1", digest },
  ]);
});

test("classic store, --load: containerimage.digest is the image ID, which no registry serves: no digest", async () => {
  const metadata = await metadataOf("build-load.classic.json");
  assert.equal(metadata["containerimage.digest"], metadata["containerimage.config.digest"]);
  assert.equal(manifestDigest(metadata), undefined);
});

test("bake --push: one target per entry, sorted, with its index digest and every tag", async () => {
  assert.deepEqual(bakeTargets(await metadataOf("bake-push.containerd.json")), [
    {
      name: "app",
      digest: "sha256:13329e867f205b08a011c67b54cc3ccc22033cfe8d2f3db20bead787c0d8a2e5",
      images: ["127.0.0.1:5000/fixtures/bake-app:v1", "127.0.0.1:5000/fixtures/bake-app:latest"],
    },
    {
      name: "tools",
      digest: "sha256:c1c73347b1a8616fe6fdd593701af818c290235c1ad42fbb12b1c1b0f213c1e4",
      images: ["127.0.0.1:5000/fixtures/bake-tools:v1"],
    },
  ]);
});

test("a failed build's plain progress: the cause is buildx's final ERROR line; not transient, not the exporter", async () => {
  const lines = await logLines("build-missing-file.containerd.log");
  assert.equal(
    lastErrorLine(lines),
    'ERROR: failed to solve: failed to compute cache key: failed to calculate checksum of ref uz39bk1e0a8bio1t1l1hjtnt5::lq8h8xxlajxvbnkzd9k99h1af: "/missing.txt": not found',
  );
  assert.equal(transientFailure(lines), undefined);
  assert.equal(isExporterUnsupported(lines), false);
});

test("a tarball build on the classic store: buildx's refusal is recognised and quoted, not its advice", async () => {
  const lines = await logLines("build-tarball.classic.log");
  assert.equal(isExporterUnsupported(lines), true);
  assert.equal(lastErrorLine(lines), "ERROR: Docker exporter is not supported for the docker driver.");
  assert.equal(transientFailure(lines), undefined);
});

test("a registry answering 500 to the engine's push: transient, worth another run; quoted from buildx's final ERROR", async () => {
  const lines = await logLines("build-push-server-error.containerd.log");
  assert.equal(transientFailure(lines), "registry");
  assert.match(
    lastErrorLine(lines) ?? "",
    /^ERROR: failed to solve: failed to push 127\.0\.0\.1:45901\/fixtures\/server-error:v1: unexpected status from HEAD request to .*: 500 Internal Server Error$/,
  );
});

test("two builds naming one new image at once: the loser's failure is transient (naming)", async () => {
  const lines = await logLines("build-naming-race.containerd.log");
  assert.equal(transientFailure(lines), "naming");
  assert.match(lastErrorLine(lines) ?? "", /^ERROR: failed to solve: image ".*": already exists$/);
});

test("the engine's /info: the image store (both readers agree) and the version", async () => {
  const containerd = await engineInfo("engine-info.containerd.json");
  const classic = await engineInfo("engine-info.classic.json");
  assert.equal(imageStoreOf(containerd), "containerd");
  assert.equal(imageStoreOf(classic), "classic");
  assert.equal(containerd.ServerVersion, "26.1.5+dfsg1");
  // A distribution's version suffix does not hide the major version.
  assert.equal(saveWritesOciLayout(containerd.ServerVersion ?? ""), true);
});

test("the engine's push streams: no errors, one manifest event, on both stores", async () => {
  for (const [file, digest] of [
    [
      "engine-push.containerd.jsonl",
      "sha256:dd99314925dca2273eaa87121436abceb7adbac08e331484e51ad5ff235451cc",
    ],
    ["engine-push.classic.jsonl", "sha256:64a05b32e2ae9450af4e96c963ba3b9d5529e8d1cea5b5e91a81232b7fe4e989"],
  ] as const) {
    const messages = await engineMessages(file);
    assert.deepEqual(messages.map(messageError).filter(Boolean), [], file);
    const progress = new EngineProgress("127.0.0.1:5000/fixtures/daemon-push:v1");
    const manifests = messages
      .flatMap((message) => progress.events(message))
      .filter((e) => e.type === "manifest");
    assert.deepEqual(
      manifests,
      [{ type: "manifest", reference: "127.0.0.1:5000/fixtures/daemon-push:v1", digest }],
      file,
    );
  }
});

test("the engine's load streams: the names it loaded, on both stores", async () => {
  for (const store of ["containerd", "classic"]) {
    const loaded: LoadedImages = { names: [], ids: [] };
    for (const message of await engineMessages(`engine-load.${store}.jsonl`)) collectLoaded(message, loaded);
    assert.deepEqual(loaded, { names: [`fixtures/load-${store}:v1`], ids: [] });
  }
});
