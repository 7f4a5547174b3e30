// Which repositories and tags a build's pushed references name, for the check of what they serve.
import assert from "node:assert/strict";
import { test } from "node:test";
import { tagsByRepository } from "../../lib/modes/pushed-tags.js";

test("references are grouped by repository, in order; references without a tag are left out", () => {
  const groups = tagsByRepository([
    "127.0.0.1:5000/team/app:v1",
    "127.0.0.1:5000/team/app:latest",
    "registry.example.com/app:v1",
    "127.0.0.1:5000/team/app",
  ]);
  assert.deepEqual(
    groups.map((g) => [g.repository.host, g.repository.path, g.tags]),
    [
      ["127.0.0.1:5000", "team/app", ["v1", "latest"]],
      ["registry.example.com", "app", ["v1"]],
    ],
  );
  assert.deepEqual(
    tagsByRepository(["app:1"]).map((g) => g.repository.full),
    ["docker.io/library/app"],
  );
});
