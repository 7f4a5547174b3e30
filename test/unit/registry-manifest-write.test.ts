// Which manifest refusals are worth a repair (the registry briefly not knowing a blob the manifest names),
// and which digests a manifest names.
import assert from "node:assert/strict";
import { test } from "node:test";
import { RegistryHttpError } from "../../lib/registry/errors.js";
import { namedDigests, refusedForUnknownContent } from "../../lib/registry/manifest-write.js";

test("manifest refusals worth a repair: only codes of unknown content, as distribution 2.8 answers in the race", () => {
  const race = new RegistryHttpError("x", 400, [
    { code: "DIGEST_INVALID", message: "provided digest did not match uploaded content" },
    { code: "MANIFEST_BLOB_UNKNOWN", message: "blob unknown to registry" },
  ]);
  assert.ok(refusedForUnknownContent(race));
  assert.ok(refusedForUnknownContent(new RegistryHttpError("x", 404, [{ code: "BLOB_UNKNOWN" }])));
  assert.ok(refusedForUnknownContent(new RegistryHttpError("x", 400, [{ code: "MANIFEST_UNKNOWN" }])));
  assert.ok(!refusedForUnknownContent(new RegistryHttpError("x", 400, [{ code: "MANIFEST_INVALID" }])));
  assert.ok(
    !refusedForUnknownContent(
      new RegistryHttpError("x", 400, [{ code: "MANIFEST_BLOB_UNKNOWN" }, { code: "TAG_INVALID" }]),
    ),
    "any other code is the registry's real refusal",
  );
  assert.ok(!refusedForUnknownContent(new RegistryHttpError("x", 400, [])));
  assert.ok(!refusedForUnknownContent(new RegistryHttpError("x", 500, [{ code: "BLOB_UNKNOWN" }])));
});

test("namedDigests: a manifest's config and layers, an index's manifests; nothing from broken JSON", () => {
  const manifest = Buffer.from(
    JSON.stringify({
      config: { digest: "sha256:c", size: 1 },
      layers: [{ digest: "sha256:l1" }, { digest: "sha256:l2", urls: ["https://x"] }],
    }),
  );
  assert.deepEqual(namedDigests(manifest), ["sha256:c", "sha256:l1", "sha256:l2"]);
  assert.deepEqual(namedDigests(Buffer.from(JSON.stringify({ manifests: [{ digest: "sha256:m" }] }))), [
    "sha256:m",
  ]);
  assert.deepEqual(namedDigests(Buffer.from("{")), []);
  assert.deepEqual(namedDigests(Buffer.from(JSON.stringify({ layers: [null, { size: 1 }] }))), []);
});
