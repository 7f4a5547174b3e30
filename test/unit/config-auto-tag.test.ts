import assert from "node:assert/strict";
import { test } from "node:test";
import { autoTags, defaultTags, usesAutoTags, withSuffix } from "../../lib/config/auto-tag.js";
import { UsageError } from "../../lib/errors.js";

test("default tags of a ref, as the plugin's tags.go computes them", () => {
  const cases: [string, string[]][] = [
    ["refs/tags/v1.2.3", ["1", "1.2", "1.2.3"]],
    ["refs/tags/1.2.3", ["1", "1.2", "1.2.3"]],
    ["refs/tags/v0.2.3", ["0.2", "0.2.3"]],
    ["refs/tags/v10.20.30", ["10", "10.20", "10.20.30"]],
    ["refs/tags/v1.2.3-rc.1", ["1.2.3-rc.1"]],
    ["refs/tags/v1.2.3+build.5", ["1.2.3+build.5"]],
    ["refs/tags/v1.2.3-beta+exp", ["1.2.3-beta+exp"]],
    ["refs/tags/2024.01.05", ["2024", "2024.01", "2024.01.05"]],
    ["refs/tags/v01.002.3", ["01", "01.002", "01.002.3"]],
    ["refs/heads/main", ["latest"]],
    ["", ["latest"]],
  ];
  for (const [ref, expected] of cases) assert.deepEqual(defaultTags(ref), expected, ref);
});

test("a tag that is not a semantic version fails, naming the tag", () => {
  for (const ref of ["refs/tags/v1.2", "refs/tags/release", "refs/tags/v1.2.3.4", "refs/tags/v1.x.3"]) {
    assert.throws(
      () => defaultTags(ref),
      (error: unknown) =>
        error instanceof UsageError &&
        error.message.includes(ref.slice("refs/tags/".length)) &&
        /PLUGIN_AUTO_TAG/.test(error.message),
      ref,
    );
  }
});

test("a suffix is appended, and replaces latest", () => {
  assert.deepEqual(withSuffix(["1", "1.2", "1.2.3"], "linux-amd64"), [
    "1-linux-amd64",
    "1.2-linux-amd64",
    "1.2.3-linux-amd64",
  ]);
  assert.deepEqual(withSuffix(["latest"], "linux"), ["linux"]);
  assert.deepEqual(withSuffix(["latest"], undefined), ["latest"]);
  assert.deepEqual(withSuffix(["latest"], ""), ["latest"]);
});

test("auto tags apply to tags and the default branch; other refs skip the build", () => {
  const cases: [string, string, boolean][] = [
    ["refs/tags/v1.0.0", "main", true],
    ["refs/heads/main", "main", true],
    ["main", "main", true],
    ["refs/heads/feature", "main", false],
    ["refs/pull/4/head", "main", false],
  ];
  for (const [ref, branch, expected] of cases) assert.equal(usesAutoTags(ref, branch), expected, ref);

  assert.deepEqual(autoTags("refs/tags/v2.1.0", "main", "arm"), { tags: ["2-arm", "2.1-arm", "2.1.0-arm"] });
  assert.deepEqual(autoTags("refs/heads/main", "main", undefined), { tags: ["latest"] });
  const skipped = autoTags("refs/heads/feature", "main", undefined);
  assert.ok("skip" in skipped);
  assert.match(skipped.skip, /skipping automated docker build for refs\/heads\/feature/);
});
