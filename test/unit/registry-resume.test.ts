// The pure parts of resumable uploads: the upload offset a registry reports, a verifier that hashes what
// the registry already has without passing it on, the retry budget that a moving upload renews, and which
// answers mean the registry lost a session.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { Readable } from "node:stream";
import { test } from "node:test";
import { BlobVerificationError, isLostUploadSession, RegistryHttpError } from "../../lib/registry/errors.js";
import { RetryBudget } from "../../lib/registry/retry.js";
import { uploadedBytes } from "../../lib/registry/upload-range.js";
import { DigestVerifier } from "../../lib/registry/verify.js";

const digestOf = (bytes: Buffer) => `sha256:${createHash("sha256").update(bytes).digest("hex")}`;

test("uploadedBytes: the inclusive Range of an upload session, with or without bytes=; 0-0 is none", () => {
  assert.equal(uploadedBytes("0-999"), 1000);
  assert.equal(uploadedBytes("bytes=0-16777215"), 16_777_216);
  assert.equal(uploadedBytes(" 0-4 "), 5);
  assert.equal(uploadedBytes("0-0"), 0);
  for (const bad of [undefined, "", "5-9", "0-", "0-x", "0-1,3-4", "bytes 0-9/10", `0-${"9".repeat(20)}`]) {
    assert.equal(uploadedBytes(bad), undefined, String(bad));
  }
});

test("a verifier told to skip hashes those bytes but passes on only the rest", async () => {
  const bytes = Buffer.from("0123456789abcdefghij");
  for (const skip of [0, 3, 7, 11, 20]) {
    const source = Readable.from([bytes.subarray(0, 5), bytes.subarray(5, 12), bytes.subarray(12)]);
    const seen: number[] = [];
    const verifier = source.pipe(
      new DigestVerifier(
        { digest: digestOf(bytes), size: bytes.length },
        { skip, onProgress: (n) => seen.push(n) },
      ),
    );
    const parts: Buffer[] = [];
    for await (const part of verifier) parts.push(part as Buffer);
    assert.equal(Buffer.concat(parts).toString(), bytes.subarray(skip).toString(), `skip ${skip}`);
    assert.equal(seen.at(-1), bytes.length, "progress counts every byte read");
  }
});

test("a skipping verifier still checks the whole blob: a change in the skipped part fails it", async () => {
  const bytes = Buffer.from("0123456789");
  const changed = Buffer.from("X123456789");
  const verifier = Readable.from([changed]).pipe(
    new DigestVerifier({ digest: digestOf(bytes), size: 10 }, { skip: 5 }),
  );
  await assert.rejects(
    (async () => {
      for await (const _ of verifier);
    })(),
    (error: unknown) => error instanceof BlobVerificationError,
  );
});

test("RetryBudget: attempts run out, but an attempt that moved on starts the budget again", async () => {
  const policy = { attempts: 3, baseDelayMs: 1, maxDelayMs: 2, budgetMs: 5_000 };
  const broken = Object.assign(new Error("socket hang up"), { code: "ECONNRESET" });
  const budget = new RetryBudget(policy);
  await budget.next(broken);
  await budget.next(broken);
  await assert.rejects(budget.next(broken), /socket hang up/, "the third failure is the last");

  const renewed = new RetryBudget(policy);
  for (let i = 0; i < 10; i++) {
    await renewed.next(broken);
    renewed.progressed();
  }
  await assert.rejects(new RetryBudget(policy).next(new RegistryHttpError("x", 400, [])), /HTTP 400/);
  await new RetryBudget(policy).next(new RegistryHttpError("x", 400, []), true);
});

test("RetryBudget: a stopped run ends the wait with its reason", async () => {
  const controller = new AbortController();
  const budget = new RetryBudget(
    { attempts: 5, baseDelayMs: 60_000, maxDelayMs: 60_000, budgetMs: 600_000 },
    {
      signal: controller.signal,
    },
  );
  const waiting = budget.next(Object.assign(new Error("reset"), { code: "ECONNRESET" }));
  controller.abort(new Error("SIGTERM"));
  await assert.rejects(waiting, /SIGTERM/);
});

test("a lost upload session: 404, 416, distribution's BLOB_UPLOAD_INVALID/UNKNOWN; not a 500 or other 400", () => {
  assert.ok(isLostUploadSession(new RegistryHttpError("x", 404, [])));
  assert.ok(isLostUploadSession(new RegistryHttpError("x", 416, [])));
  assert.ok(isLostUploadSession(new RegistryHttpError("x", 400, [{ code: "BLOB_UPLOAD_INVALID" }])));
  assert.ok(isLostUploadSession(new RegistryHttpError("x", 400, [{ code: "BLOB_UPLOAD_UNKNOWN" }])));
  assert.ok(!isLostUploadSession(new RegistryHttpError("x", 400, [{ code: "SIZE_INVALID" }])));
  assert.ok(!isLostUploadSession(new RegistryHttpError("x", 500, [])));
  assert.ok(!isLostUploadSession(new Error("ECONNRESET")));
});
