// The pure parts of the registry client: the auth challenge, retry decisions and delays, chunking,
// and verification of bytes while they stream.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { Readable } from "node:stream";
import { test } from "node:test";
import { parseChallenge } from "../../lib/registry/challenge.js";
import { chunkLengths } from "../../lib/registry/chunked-upload.js";
import { BlobVerificationError, parseErrorBody, RegistryHttpError } from "../../lib/registry/errors.js";
import { backoffDelay, isRetryable, parseRetryAfter, withRetry } from "../../lib/registry/retry.js";
import { DigestVerifier, splitIntoPieces, verifyBlob } from "../../lib/registry/verify.js";

test("Bearer challenges with quoted params, commas inside quotes and escapes", () => {
  assert.deepEqual(
    parseChallenge(
      'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:samalba/my-app:pull,push"',
    ),
    {
      scheme: "bearer",
      realm: "https://auth.docker.io/token",
      service: "registry.docker.io",
      scope: "repository:samalba/my-app:pull,push",
      error: undefined,
    },
  );
  const withError = parseChallenge('Bearer realm="https://r/t", error="insufficient_scope", service=reg');
  assert.equal(withError.scheme === "bearer" && withError.error, "insufficient_scope");
  assert.equal(withError.scheme === "bearer" && withError.service, "reg");
  assert.deepEqual(parseChallenge('Basic realm="say \\"hi\\""'), { scheme: "basic", realm: 'say "hi"' });
});

test("Bearer wins over Basic; no header or an unknown scheme is anonymous", () => {
  assert.equal(parseChallenge(['Basic realm="x"', 'Bearer realm="https://t"']).scheme, "bearer");
  assert.deepEqual(parseChallenge(undefined), { scheme: "none" });
  assert.deepEqual(parseChallenge("Negotiate abc"), { scheme: "none" });
  // A Bearer challenge without a realm cannot be answered.
  assert.deepEqual(parseChallenge('Bearer service="x"'), { scheme: "none" });
});

test("registry error bodies", () => {
  assert.deepEqual(parseErrorBody('{"errors":[{"code":"DENIED","message":"no","detail":{}}]}'), [
    { code: "DENIED", message: "no" },
  ]);
  assert.deepEqual(parseErrorBody("<html>"), []);
  const error = new RegistryHttpError("upload", 403, [
    { code: "DENIED", message: "requested access is denied" },
  ]);
  assert.match(
    error.message,
    /upload: the registry answered HTTP 403 \(DENIED: requested access is denied\)/,
  );
});

test("what is retried: 5xx, 429, broken connections; not 4xx nor bad bytes", () => {
  assert.ok(isRetryable(new RegistryHttpError("x", 500, [])));
  assert.ok(isRetryable(new RegistryHttpError("x", 503, [])));
  assert.ok(isRetryable(new RegistryHttpError("x", 429, [])));
  assert.ok(!isRetryable(new RegistryHttpError("x", 404, [])));
  assert.ok(!isRetryable(new RegistryHttpError("x", 401, [])));
  assert.ok(isRetryable(new RegistryHttpError("x", 401, [], { retryable: true })));
  assert.ok(isRetryable(Object.assign(new Error("write EPIPE"), { code: "EPIPE" })));
  assert.ok(
    isRetryable(new Error("fetch failed", { cause: Object.assign(new Error("x"), { code: "ECONNRESET" }) })),
  );
  assert.ok(!isRetryable(new BlobVerificationError(`sha256:${"a".repeat(64)}`, "bad")));
  assert.ok(!isRetryable(new Error("something else")));
});

test("Retry-After in seconds or as a date; backoff doubles with jitter up to the cap", () => {
  assert.equal(parseRetryAfter("2"), 2000);
  assert.equal(parseRetryAfter(new Date(10_000).toUTCString(), 7_000), 3000);
  assert.equal(parseRetryAfter("soon"), undefined);
  assert.equal(parseRetryAfter(undefined), undefined);
  const policy = { attempts: 5, baseDelayMs: 100, maxDelayMs: 1000, budgetMs: 10_000 };
  assert.equal(
    backoffDelay(policy, 1, () => 1),
    100,
  );
  assert.equal(
    backoffDelay(policy, 3, () => 1),
    400,
  );
  assert.equal(
    backoffDelay(policy, 3, () => 0),
    200,
  );
  assert.equal(
    backoffDelay(policy, 10, () => 1),
    1000,
  );
});

test("withRetry: retries within the attempts, honours Retry-After, stops at a fatal error or the budget", async () => {
  const policy = { attempts: 4, baseDelayMs: 1, maxDelayMs: 5, budgetMs: 5_000 };
  let calls = 0;
  const delays: number[] = [];
  const value = await withRetry(
    async () => {
      calls++;
      if (calls === 1) throw new RegistryHttpError("x", 429, [], { retryAfterMs: 30 });
      if (calls === 2) throw new RegistryHttpError("x", 502, []);
      return "ok";
    },
    { policy, onRetry: (n) => delays.push(n.delayMs) },
  );
  assert.equal(value, "ok");
  assert.equal(calls, 3);
  assert.equal(delays[0], 30);

  calls = 0;
  await assert.rejects(
    withRetry(
      async () => {
        calls++;
        throw new RegistryHttpError("x", 500, []);
      },
      { policy },
    ),
    /HTTP 500/,
  );
  assert.equal(calls, 4, "all attempts used");

  calls = 0;
  await assert.rejects(
    withRetry(
      async () => {
        calls++;
        throw new RegistryHttpError("x", 400, []);
      },
      { policy },
    ),
    /HTTP 400/,
  );
  assert.equal(calls, 1, "a 400 is not repeated");

  calls = 0;
  const started = Date.now();
  await assert.rejects(
    withRetry(
      async () => {
        calls++;
        throw new RegistryHttpError("x", 429, [], { retryAfterMs: 60_000 });
      },
      { policy },
    ),
    /HTTP 429/,
  );
  assert.equal(calls, 1, "a Retry-After beyond the budget ends the retries at once");
  assert.ok(Date.now() - started < 1000);
});

test("chunk lengths cover the blob exactly", () => {
  assert.deepEqual(chunkLengths(10, 4), [4, 4, 2]);
  assert.deepEqual(chunkLengths(8, 4), [4, 4]);
  assert.deepEqual(chunkLengths(0, 4), []);
});

const digestOf = (bytes: Buffer) => `sha256:${createHash("sha256").update(bytes).digest("hex")}`;

async function collect(iterable: AsyncIterable<Buffer>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const part of iterable) parts.push(part);
  return Buffer.concat(parts);
}

test("a verified stream passes the bytes unchanged; pieces split them at exact offsets", async () => {
  const bytes = Buffer.from("0123456789abcdefghij");
  const source = Readable.from([bytes.subarray(0, 3), bytes.subarray(3, 11), bytes.subarray(11)]);
  const verifier = source.pipe(new DigestVerifier({ digest: digestOf(bytes), size: bytes.length }));
  const pieces = splitIntoPieces(verifier, [8, 8, 4]);
  const got = [];
  for (const piece of pieces) got.push((await collect(piece)).toString());
  assert.deepEqual(got, ["01234567", "89abcdef", "ghij"]);
});

test("the last bytes of a mismatching blob are never passed on", async () => {
  const bytes = Buffer.from("0123456789");
  const wrong = Buffer.from("012345678X");
  const passed: Buffer[] = [];
  const verifier = Readable.from([wrong.subarray(0, 5), wrong.subarray(5)]).pipe(
    new DigestVerifier({ digest: digestOf(bytes), size: 10 }),
  );
  await assert.rejects(
    (async () => {
      for await (const part of verifier) passed.push(part as Buffer);
    })(),
    (error: unknown) => error instanceof BlobVerificationError && /hash to sha256:/.test(error.message),
  );
  // The first piece may or may not get through before the error; the last one never does.
  assert.ok(!Buffer.concat(passed).toString().includes("X"), "the held-back piece stays back");
});

test("verifyBlob: too many or too few bytes", async () => {
  const bytes = Buffer.from("hello");
  await verifyBlob({ digest: digestOf(bytes), size: 5 }, Readable.from([bytes]));
  await assert.rejects(
    verifyBlob({ digest: digestOf(bytes), size: 4 }, Readable.from([bytes])),
    /more than its 4 bytes/,
  );
  await assert.rejects(
    verifyBlob({ digest: digestOf(bytes), size: 6 }, Readable.from([bytes])),
    /only 5 of its 6 bytes/,
  );
  await assert.rejects(
    verifyBlob({ digest: "md5:abc", size: 5 }, Readable.from([bytes])),
    /unsupported digest/,
  );
});

test("a registry's words are kept on one line and cannot drive the terminal", () => {
  const body = JSON.stringify({
    errors: [
      {
        code: "DENIED\u001b[2J",
        message:
          "no\r\npushed registry.example.com/app:v1 at sha256:forged\u001b]0;title\u0007 \u202egnp.exe",
      },
    ],
  });
  assert.deepEqual(parseErrorBody(body), [
    {
      code: "DENIED\\x1b[2J",
      message: "no\\r\\npushed registry.example.com/app:v1 at sha256:forged\\x1b]0;title\\x07 \\u202egnp.exe",
    },
  ]);
});
