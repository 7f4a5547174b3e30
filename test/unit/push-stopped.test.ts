import assert from "node:assert/strict";
import { test } from "node:test";
import { publishedSoFar } from "../../lib/modes/push-only.js";
import { parseRepository } from "../../lib/reference/name.js";
import { PartialPushError } from "../../lib/registry/push.js";

test("a stopped push says what was published: nothing, or the tags written before it stopped", () => {
  const target = parseRepository("registry.example.com/team/app");
  assert.equal(
    publishedSoFar(new Error("stopped by SIGTERM"), target, ["v1", "v2"]),
    "nothing was published: no tag was written",
  );
  assert.equal(
    publishedSoFar(new PartialPushError("stopped", ["v1"], new Error("stopped by SIGTERM")), target, [
      "v1",
      "v2",
      "v3",
    ]),
    "published before it stopped: registry.example.com/team/app:v1; not published: v2, v3",
  );
});
