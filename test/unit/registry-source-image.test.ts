// Which image of a tarball push-only pushes, and which repositories of the target registry may lend blobs.
import assert from "node:assert/strict";
import { test } from "node:test";
import type { ArchiveImage } from "../../lib/archive/types.js";
import { UsageError } from "../../lib/errors.js";
import { pickImage } from "../../lib/modes/push-input.js";
import { mountSourcesFor } from "../../lib/modes/push-only.js";
import { parseRepository } from "../../lib/reference/name.js";

const image = (names: string[], hex: string, platforms = ["linux/amd64"]): ArchiveImage => ({
  names,
  descriptor: {
    mediaType: "application/vnd.oci.image.index.v1+json",
    digest: `sha256:${hex.repeat(64)}`,
    size: 100,
  },
  platforms,
  size: 1000,
});

const a = image(["team/app-a:1"], "a");
const b = image(["registry.example.com/team/app-b:2", "app-b:latest"], "b", ["linux/amd64", "linux/arm64"]);

test("the only image is pushed; several need PLUGIN_SOURCE_IMAGE, and the error lists them", () => {
  assert.equal(pickImage({ path: "one.tar", images: [a] }, undefined), a);
  assert.throws(
    () => pickImage({ path: "two.tar", images: [a, b] }, undefined),
    (error: unknown) =>
      error instanceof UsageError &&
      /two\.tar holds 2 images; set PLUGIN_SOURCE_IMAGE/.test(error.message) &&
      error.message.includes(a.descriptor.digest) &&
      error.message.includes("registry.example.com/team/app-b:2, app-b:latest") &&
      error.message.includes("[linux/amd64, linux/arm64]"),
  );
});

test("PLUGIN_SOURCE_IMAGE by name as written, as docker reads it, or by digest", () => {
  const archive = { path: "two.tar", images: [a, b] };
  assert.equal(pickImage(archive, "team/app-a:1"), a);
  assert.equal(pickImage(archive, "docker.io/team/app-a:1"), a);
  assert.equal(pickImage(archive, "app-b"), b, "no tag means latest");
  assert.equal(pickImage(archive, "docker.io/library/app-b:latest"), b);
  assert.equal(pickImage(archive, b.descriptor.digest), b);
  assert.throws(() => pickImage(archive, "team/app-a:2"), /is not an image of two\.tar/);
  // Naming an image that is not there is refused even when there is only one.
  assert.throws(() => pickImage({ path: "one.tar", images: [a] }, "other:1"), UsageError);
});

test("mount sources: the tarball's names in other repositories of the target registry", () => {
  const target = parseRepository("registry.example.com/team/app");
  assert.deepEqual(mountSourcesFor(b, target), ["team/app-b"]);
  assert.deepEqual(mountSourcesFor(image(["registry.example.com/team/app:1"], "c"), target), []);
  assert.deepEqual(mountSourcesFor(a, target), [], "another registry lends nothing");
});
