import assert from "node:assert/strict";
import { test } from "node:test";
import { formatDuration, parseDuration } from "../../lib/config/duration.js";
import { findProblems } from "../../lib/config/validate.js";
import { testSettings } from "../helpers/settings.js";

test("durations: 90s, 10m, 1h, 1h30m, plain seconds; nothing else", () => {
  assert.equal(parseDuration("90s"), 90_000);
  assert.equal(parseDuration("10m"), 600_000);
  assert.equal(parseDuration("1h"), 3_600_000);
  assert.equal(parseDuration("1h30m"), 5_400_000);
  assert.equal(parseDuration(" 600 "), 600_000);
  assert.equal(parseDuration("2H"), 7_200_000);
  for (const bad of ["", "0", "0s", "soon", "10 minutes", "1.5h", "-5m", "1m1h", "5m5m", "10ms", "1d"]) {
    assert.equal(parseDuration(bad), undefined, bad);
  }
  assert.equal(formatDuration(5_400_000), "1h30m");
  assert.equal(formatDuration(90_000), "1m30s");
});

test("a PLUGIN_PUSH_TIMEOUT that is not a duration is a problem naming the setting", async () => {
  const problems = await findProblems(
    {
      settings: testSettings({ pushTimeout: "soon", repo: "registry.example.com/app" }),
      sources: {},
      warnings: [],
    },
    "/",
  );
  assert.equal(problems.length, 1);
  assert.match(problems[0]?.message ?? "", /PLUGIN_PUSH_TIMEOUT is "soon", which is not a duration/);
  assert.equal(problems[0]?.setting, "PLUGIN_PUSH_TIMEOUT");
  assert.deepEqual(
    await findProblems(
      { settings: testSettings({ repo: "registry.example.com/app" }), sources: {}, warnings: [] },
      "/",
    ),
    [],
  );
});
