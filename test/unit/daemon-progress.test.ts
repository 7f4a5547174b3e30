import assert from "node:assert/strict";
import { test } from "node:test";
import type { JsonMessage } from "../../lib/daemon/json-messages.js";
import { LoadProgress } from "../../lib/daemon/load.js";
import { EngineProgress, pushedDigestOf, sizesByShortId } from "../../lib/daemon/progress.js";
import { engineAuthConfig, registryAuthHeader } from "../../lib/daemon/registry-auth.js";
import { endsLikeTar } from "../../lib/daemon/save.js";
import { imageStoreOf } from "../../lib/engine/info.js";
import { pushHint } from "../../lib/modes/setting-hints.js";

const containerdDigest = "sha256:5a76a9c2e73711703bdf46e3d1933fcd5a59c47b88bf897b6ab999c69f8fd519";
const classicDigest = "sha256:cb6a9c7bdbdc33df12bb3146c01d0f1cf6faf734b7f777a1c5268991e92212e3";

// Recorded from dockerd 26.1 pushing to a local registry.
const containerdPush: JsonMessage[] = [
  { status: "The push refers to repository [127.0.0.1:5000/daemonexp]" },
  { status: "Pushed", progressDetail: {}, id: "e3a9f42758dc" },
  { status: "Pushed", progressDetail: {}, id: "cfc7f7eef128" },
  { status: `t1: digest: ${containerdDigest} size: 696` },
];
const classicPush: JsonMessage[] = [
  { status: "The push refers to repository [127.0.0.1:5000/daemonexp]" },
  { status: "Preparing", progressDetail: {}, id: "9deae0200054" },
  { status: "Preparing", progressDetail: {}, id: "c7484499300f" },
  { status: "Pushing", progressDetail: { current: 33792, total: 1982256 }, id: "c7484499300f" },
  { status: "Pushing", progressDetail: { current: 512, total: 3 }, id: "9deae0200054" },
  { status: "Pushed", progressDetail: {}, id: "9deae0200054" },
  { status: "Pushing", progressDetail: { current: 1984512, total: 1982256 }, id: "c7484499300f" },
  { status: "Pushed", progressDetail: {}, id: "c7484499300f" },
  { status: "Layer already exists", progressDetail: {}, id: "aaaaaaaaaaaa" },
  { status: `t1: digest: ${classicDigest} size: 734` },
  { progressDetail: {}, aux: { Tag: "t1", Digest: classicDigest, Size: 734 } },
];

test("the pushed digest comes from aux (classic store) or the status line (containerd store sends no aux)", () => {
  assert.deepEqual(pushedDigestOf(containerdPush[3] as JsonMessage), { tag: "t1", digest: containerdDigest });
  assert.deepEqual(pushedDigestOf(classicPush[10] as JsonMessage), { tag: "t1", digest: classicDigest });
  assert.equal(pushedDigestOf({ status: "Pushed", id: "x" }), undefined);
});

test("push messages become the renderer's events: one start, progress never above 100%, one done per layer", () => {
  const progress = new EngineProgress("127.0.0.1:5000/daemonexp:t1");
  const events = classicPush.flatMap((m) => progress.events(m));
  assert.deepEqual(events, [
    { type: "message", text: "The push refers to repository [127.0.0.1:5000/daemonexp]" },
    { type: "blob-start", id: "c7484499300f", total: 1982256 },
    { type: "blob-progress", id: "c7484499300f", current: 33792, total: 1982256 },
    { type: "blob-start", id: "9deae0200054", total: 512 },
    { type: "blob-progress", id: "9deae0200054", current: 512, total: 512 },
    { type: "blob-done", id: "9deae0200054", total: 512, how: "uploaded" },
    { type: "blob-progress", id: "c7484499300f", current: 1984512, total: 1984512 },
    { type: "blob-done", id: "c7484499300f", total: 1984512, how: "uploaded" },
    { type: "blob-start", id: "aaaaaaaaaaaa", total: 0 },
    { type: "blob-done", id: "aaaaaaaaaaaa", total: 0, how: "exists" },
    { type: "manifest", reference: "127.0.0.1:5000/daemonexp:t1", digest: classicDigest },
  ]);
  // The containerd store reports no sizes: they come from the tarball, by the short id it prints.
  const sizes = sizesByShortId([
    { digest: "sha256:e3a9f42758dc9f96fdb16d7d66d016aec93907c85c17b33ca0c17452d13d039c", size: 102 },
    { digest: "sha256:cfc7f7eef1284e92e658eccc60b16cc65912bfd7d4c23cf0cddfd9cb9c4e341f", size: 1064324 },
  ]);
  const containerd = new EngineProgress("r:t1", sizes);
  assert.deepEqual(containerdPush.flatMap((m) => containerd.events(m)).slice(1, 5), [
    { type: "blob-start", id: "e3a9f42758dc", total: 102 },
    { type: "blob-done", id: "e3a9f42758dc", total: 102, how: "uploaded" },
    { type: "blob-start", id: "cfc7f7eef128", total: 1064324 },
    { type: "blob-done", id: "cfc7f7eef128", total: 1064324, how: "uploaded" },
  ]);
});

test("the classic store's load progress is one line per layer, when it is loaded", () => {
  const progress = new LoadProgress();
  const events = [
    { status: "Loading layer", progressDetail: { current: 32768, total: 1064324 }, id: "c7484499300f" },
    { status: "Loading layer", progressDetail: { current: 1064324, total: 1064324 }, id: "c7484499300f" },
    { status: "Loading layer", progressDetail: { current: 1064324, total: 1064324 }, id: "c7484499300f" },
    { stream: "Loaded image: exp/sample:a\n" },
  ].flatMap((m) => progress.events(m));
  assert.deepEqual(events, [{ type: "message", text: "c7484499300f: layer loaded (1.1 MB)" }]);
});

test("the image store: containerd snapshotter in DriverStatus, else classic", () => {
  assert.equal(
    imageStoreOf({ Driver: "overlayfs", DriverStatus: [["driver-type", "io.containerd.snapshotter.v1"]] }),
    "containerd",
  );
  assert.equal(
    imageStoreOf({ Driver: "overlay2", DriverStatus: [["Backing Filesystem", "extfs"]] }),
    "classic",
  );
  assert.equal(imageStoreOf({ Driver: "vfs", DriverStatus: null }), "classic");
});

test("X-Registry-Auth: URL-safe base64 with padding, of the fields the engine reads", () => {
  const header = registryAuthHeader({ username: "alice", password: "p+/?>~" }, "127.0.0.1:5000");
  assert.doesNotMatch(header, /[+/]/);
  assert.equal(header.length % 4, 0);
  const decoded = JSON.parse(Buffer.from(header.replace(/-/g, "+").replace(/_/g, "/"), "base64").toString());
  assert.deepEqual(decoded, { username: "alice", password: "p+/?>~", serveraddress: "127.0.0.1:5000" });
  // The engine refuses a push without the header: anonymous is `{}`.
  assert.equal(registryAuthHeader(undefined, "h"), "e30=");
  assert.deepEqual(engineAuthConfig({ identityToken: "refresh", username: "u" }, "h"), {
    username: "u",
    identitytoken: "refresh",
    serveraddress: "h",
  });
  assert.deepEqual(engineAuthConfig({ registryToken: "bearer" }, "h"), {
    registrytoken: "bearer",
    serveraddress: "h",
  });
});

test("the registry's refusal gets a hint that names the setting to check", () => {
  assert.match(
    pushHint("unauthorized: authentication required", "r:5000") ?? "",
    /PLUGIN_USERNAME and PLUGIN_PASSWORD.*r:5000/,
  );
  assert.match(
    pushHint("unexpected status from HEAD request to http://r/v2/x: 401 Unauthorized", "r") ?? "",
    /credentials/,
  );
  assert.match(pushHint("denied: requested access to the resource is denied", "r") ?? "", /may not push/);
  assert.match(
    pushHint("no basic auth credentials", "r:5000") ?? "",
    /asks for a login.*PLUGIN_REGISTRY=r:5000/,
  );
  assert.equal(pushHint("blob upload unknown", "r"), undefined);
});

test("a saved tarball must end with the tar end-of-archive marker", () => {
  const zeros = Buffer.alloc(1024);
  assert.equal(endsLikeTar(4096, zeros), true);
  assert.equal(endsLikeTar(4096 + 100, zeros), false, "not a whole number of blocks");
  const withError = Buffer.concat([
    Buffer.alloc(1024 - 60),
    Buffer.from('{"errorDetail":{"message":"boom"},"error":"boom"}\n'.padEnd(60)),
  ]);
  assert.equal(endsLikeTar(4096, withError), false, "a JSON error after the tar");
  const cut = Buffer.alloc(1024, 0x41);
  assert.equal(endsLikeTar(4096, cut), false, "cut off inside an entry");
  assert.equal(endsLikeTar(512, Buffer.alloc(512)), false, "too short to be a tar");
});
