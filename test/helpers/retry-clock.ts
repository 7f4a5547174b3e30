import type { RetryClock } from "../../lib/registry/retry.js";

/**
 * A retry clock (lib/registry/retry.ts) that does not wait: each backoff is recorded in `waits` and moves
 * the time the retries see on by as much, so a fault test runs its retries at once, within the same
 * budget of attempts and time as production.
 */
export function instantClock(): RetryClock & { waits: number[] } {
  const waits: number[] = [];
  let skipped = 0;
  return {
    waits,
    now: () => Date.now() + skipped,
    sleep: async (ms, signal) => {
      signal?.throwIfAborted();
      waits.push(ms);
      skipped += ms;
      // Lets the sockets and timers of the failed attempt settle, as a real wait would.
      await new Promise((resolve) => setImmediate(resolve));
    },
  };
}
