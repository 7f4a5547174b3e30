import assert from "node:assert/strict";
import { test } from "node:test";
import { StepFailure } from "../../lib/errors.js";
import { withRetry } from "../../lib/registry/retry.js";
import { connectTimeout, noProgressTimeout } from "../../lib/registry/timeouts.js";

const policy = { attempts: 5, baseDelayMs: 1, maxDelayMs: 2, budgetMs: 10_000 };

test("a step that times out is tried twice, not for the whole retry budget", async () => {
  let calls = 0;
  await assert.rejects(
    withRetry(
      async () => {
        calls++;
        throw connectTimeout("registry.example.com", 30_000);
      },
      { policy },
    ),
    /no answer from registry\.example\.com within the 30 s connect timeout/,
  );
  assert.equal(calls, 2);
  calls = 0;
  await assert.rejects(
    withRetry(
      async () => {
        calls++;
        throw noProgressTimeout("registry.example.com", 120_000);
      },
      { policy: { ...policy, timeoutAttempts: 1 } },
    ),
    /for 120 s \(the no-progress timeout\)/,
  );
  assert.equal(calls, 1);
});

test("retries end with the run's signal, and its reason is the error", async () => {
  const controller = new AbortController();
  const reason = new StepFailure("the push did not finish within PLUGIN_PUSH_TIMEOUT=1s");
  let calls = 0;
  await assert.rejects(
    withRetry(
      async () => {
        calls++;
        if (calls === 2) controller.abort(reason);
        throw Object.assign(new Error("reset"), { code: "ECONNRESET" });
      },
      { policy, signal: controller.signal },
    ),
    (error: unknown) => error === reason,
  );
  assert.equal(calls, 2);
});
