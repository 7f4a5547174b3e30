import assert from "node:assert/strict";
import { test } from "node:test";
import { formatBytes } from "../../lib/progress/format.js";
import { createLineRenderer } from "../../lib/progress/lines.js";
import { renderModeFor } from "../../lib/progress/renderer.js";

test("bars on a terminal, lines in CI or a pipe, nothing when quiet", () => {
  assert.equal(renderModeFor({ quiet: false, isTTY: true, env: {} }), "bars");
  assert.equal(renderModeFor({ quiet: false, isTTY: true, env: { CI: "true" } }), "lines");
  assert.equal(renderModeFor({ quiet: false, isTTY: true, env: { CI: "false" } }), "bars");
  assert.equal(renderModeFor({ quiet: false, isTTY: false, env: {} }), "lines");
  assert.equal(renderModeFor({ quiet: true, isTTY: true, env: {} }), "none");
});

test("sizes in decimal units, as docker prints them", () => {
  assert.equal(formatBytes(999), "999 B");
  assert.equal(formatBytes(1500), "1.5 kB");
  assert.equal(formatBytes(200_000_000), "200.0 MB");
  assert.equal(formatBytes(1_073_741_824), "1.1 GB");
});

test("CI lines: a blob's start and end, a total at most every interval, never per chunk", () => {
  let clock = 0;
  const lines: string[] = [];
  const renderer = createLineRenderer({ write: (l) => lines.push(l), intervalMs: 5_000, now: () => clock });
  renderer.sink({ type: "push-start", target: "r/app", blobs: 2, total: 2_000_000 });
  renderer.sink({ type: "blob-start", id: "aaa", total: 1_000_000 });
  renderer.sink({ type: "blob-start", id: "bbb", total: 1_000_000 });
  renderer.sink({ type: "blob-done", id: "bbb", total: 1_000_000, how: "exists" });
  for (let i = 1; i <= 100; i++) {
    clock += 100;
    renderer.sink({ type: "blob-progress", id: "aaa", current: i * 10_000, total: 1_000_000 });
  }
  renderer.sink({ type: "blob-done", id: "aaa", total: 1_000_000, how: "uploaded" });
  renderer.sink({ type: "manifest", reference: "r/app:v1", digest: "sha256:d" });
  renderer.finish();
  assert.deepEqual(lines.slice(0, 3), [
    "pushing to r/app: 2 blobs, 2.0 MB",
    "bbb: already in the registry (1.0 MB)",
    "aaa: uploading 1.0 MB",
  ]);
  const totals = lines.filter((l) => l.startsWith("total: "));
  // 10 s of progress at a 5 s interval: two interim totals, then the final one.
  assert.equal(totals.length, 3, lines.join("\n"));
  assert.match(totals[0] ?? "", /^total: 1\.5 MB of 2\.0 MB \(75%\), 1 of 2 blobs done/);
  assert.match(totals[2] ?? "", /^total: 2\.0 MB of 2\.0 MB \(100%\), 2 of 2 blobs done, .* in 10\.0 s$/);
  assert.ok(lines.includes("aaa: pushed (1.0 MB)"));
  assert.ok(lines.includes("r/app:v1: digest sha256:d"));
});
