import assert from "node:assert/strict";
import { test } from "node:test";
import { progressMode } from "../../lib/buildx/progress.js";
import { isCi } from "../../lib/progress/ci.js";
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

test("CI has one reading, which both progress displays follow", () => {
  for (const value of ["true", "1", "TRUE", "woodpecker"]) assert.equal(isCi({ CI: value }), true, value);
  for (const value of [undefined, "", "false", "FALSE", "0"]) assert.equal(isCi({ CI: value }), false, value);
  for (const value of ["yes", "0", "False"]) {
    const watched = renderModeFor({ quiet: false, isTTY: true, env: { CI: value } }) === "bars";
    assert.equal(progressMode({ CI: value }, true) === "auto", watched, value);
  }
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

test("tags: the first with its digest, the rest of the same digest on one line, at most every interval", () => {
  let clock = 0;
  const lines: string[] = [];
  const renderer = createLineRenderer({ write: (l) => lines.push(l), intervalMs: 5_000, now: () => clock });
  renderer.sink({ type: "push-start", target: "127.0.0.1:5000/app", blobs: 0, total: 0 });
  for (let i = 1; i <= 50; i++) {
    clock += 10;
    renderer.sink({ type: "manifest", reference: `127.0.0.1:5000/app:t${i}`, digest: "sha256:d" });
  }
  renderer.finish();
  const rest = Array.from({ length: 49 }, (_, i) => `t${i + 2}`).join(", ");
  assert.deepEqual(lines, [
    "pushing to 127.0.0.1:5000/app: 0 blobs, 0 B",
    "127.0.0.1:5000/app:t1: digest sha256:d",
    `127.0.0.1:5000/app: also ${rest} (49 tags, the same digest)`,
  ]);

  // Slow tag writes still show progress; another digest or repository starts a line of its own.
  lines.length = 0;
  const slow = createLineRenderer({ write: (l) => lines.push(l), intervalMs: 5_000, now: () => clock });
  for (const [reference, digest] of [
    ["r/app:a", "sha256:1"],
    ["r/app:b", "sha256:1"],
    ["r/app:c", "sha256:1"],
    ["r/other:a", "sha256:1"],
    ["r/other:b", "sha256:2"],
  ] as const) {
    clock += 3_000;
    slow.sink({ type: "manifest", reference, digest });
  }
  slow.finish();
  assert.deepEqual(lines, [
    "r/app:a: digest sha256:1",
    "r/app: also b, c (2 tags, the same digest)",
    "r/other:a: digest sha256:1",
    "r/other:b: digest sha256:2",
  ]);
});
