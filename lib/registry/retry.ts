/**
 * Retries of idempotent registry steps: on connection errors, 429 (after its Retry-After) and 5xx, with
 * exponential backoff and jitter, within a bounded budget of attempts and time (and of timeouts, which
 * cost the most); never past the run's signal, which carries the push deadline. Anything else (a 4xx, a
 * blob whose bytes do not match its digest) fails at once: repeating it cannot help. This is the client's
 * one layer that retries (client.ts): the layers below send each request once (a refused token aside), so
 * a step sends each of its requests at most `attempts` times, whichever layer failed.
 */
import { RegistryHttpError } from "./errors.js";
import { isRequestTimeout } from "./timeouts.js";

export interface RetryPolicy {
  /** Attempts in all, the first included. */
  attempts: number;
  /** Delay before the second attempt; doubled for each one after, with jitter. */
  baseDelayMs: number;
  maxDelayMs: number;
  /** Time from the first attempt after which no new attempt starts. */
  budgetMs: number;
  /**
   * Attempts that may end in a timeout (timeouts.ts): a registry that did not answer for the whole
   * timeout is unlikely to answer the next time, and each such attempt costs the full timeout. Default 2.
   */
  timeoutAttempts?: number;
  /** How the retries read the time and wait; the real one unless a test gives one that does not wait. */
  clock?: RetryClock;
}

export interface RetryClock {
  now(): number;
  /** Waits `ms`, or rejects when `signal` aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

const realClock: RetryClock = {
  now: () => Date.now(),
  // Loaded at the first wait: most runs never retry.
  sleep: (ms, signal) =>
    process.getBuiltinModule("node:timers/promises").setTimeout(ms, undefined, { signal }),
};

export const defaultRetryPolicy: RetryPolicy = {
  attempts: 5,
  baseDelayMs: 250,
  maxDelayMs: 8_000,
  budgetMs: 120_000,
  timeoutAttempts: 2,
};

/**
 * Error codes of a connection that failed or broke, as Node's net, tls and http modules give them (the
 * client's transport is node:https, not undici); ETIMEDOUT also for this client's own deadlines (timeouts.ts).
 */
const CONNECTION_ERROR_CODES = new Set([
  "ECONNRESET",
  "ECONNREFUSED",
  "ECONNABORTED",
  "EPIPE",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EAI_AGAIN",
]);

function errorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | undefined)?.code;
  if (typeof code === "string") return code;
  const cause = (error as { cause?: unknown } | undefined)?.cause;
  return cause && cause !== error ? errorCode(cause) : undefined;
}

/** Whether repeating the step may succeed: a broken connection, 429, or a 5xx. */
export function isRetryable(error: unknown): boolean {
  if (error instanceof RegistryHttpError && error.retryable !== undefined) return error.retryable;
  if (error instanceof RegistryHttpError) return error.status === 429 || error.status >= 500;
  const code = errorCode(error);
  return code !== undefined && CONNECTION_ERROR_CODES.has(code);
}

/** `Retry-After` as milliseconds: delta-seconds or an HTTP date (RFC 9110 §10.2.3). */
export function parseRetryAfter(value: string | undefined, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const date = Date.parse(trimmed);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}

/** The backoff before attempt `attempt + 1` (attempt counts from 1), with up to 50% jitter. */
export function backoffDelay(policy: RetryPolicy, attempt: number, random = Math.random): number {
  const exponential = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
  return Math.round(exponential * (0.5 + random() / 2));
}

export interface RetryNotice {
  attempt: number;
  delayMs: number;
  error: unknown;
}

/**
 * The retries left to one step: after each failed attempt, {@link RetryBudget.next} waits the backoff, or
 * throws when no attempt is left. A step that is repeated by hand uses it directly: an upload that goes on
 * from where the registry got to, a manifest write repaired before it is sent again.
 */
export class RetryBudget {
  readonly #policy: RetryPolicy;
  readonly #signal: AbortSignal | undefined;
  readonly #onRetry: ((notice: RetryNotice) => void) | undefined;
  readonly #clock: RetryClock;
  #attempt = 1;
  #started: number;
  #timeouts = 0;

  constructor(
    policy: RetryPolicy,
    options: { signal?: AbortSignal; onRetry?: (notice: RetryNotice) => void } = {},
  ) {
    this.#policy = policy;
    this.#signal = options.signal;
    this.#onRetry = options.onRetry;
    this.#clock = policy.clock ?? realClock;
    this.#started = this.#clock.now();
  }

  /**
   * After a failed attempt: waits before the next one, or throws `error` when there is none (it is not
   * `retryable`, the attempts or the time are spent) or the run's signal when the run stopped. A 429's
   * Retry-After sets the delay; one beyond the budget ends the retries.
   */
  async next(error: unknown, retryable = isRetryable(error)): Promise<void> {
    const policy = this.#policy;
    const signal = this.#signal;
    // The run was stopped (a signal, the push deadline): its reason is what failed, not this step.
    if (signal?.aborted) throw signal.reason instanceof Error ? signal.reason : error;
    if (isRequestTimeout(error) && ++this.#timeouts >= (policy.timeoutAttempts ?? 2)) throw error;
    if (!retryable || this.#attempt >= policy.attempts) throw error;
    const retryAfter = error instanceof RegistryHttpError ? error.retryAfterMs : undefined;
    const delayMs = retryAfter ?? backoffDelay(policy, this.#attempt);
    if (this.#clock.now() - this.#started + delayMs > policy.budgetMs) throw error;
    this.#onRetry?.({ attempt: this.#attempt, delayMs, error });
    this.#attempt++;
    try {
      await this.#clock.sleep(delayMs, signal);
    } catch (stopped) {
      throw signal?.reason instanceof Error ? signal.reason : stopped;
    }
  }

  /**
   * The step moved on since its last failure (an upload the registry got more of): the next failure
   * starts a new budget. A slow link that drops now and then keeps going; one that gets nowhere gives up
   * as before. The run's deadline (PLUGIN_PUSH_TIMEOUT) still bounds it.
   */
  progressed(): void {
    this.#attempt = 1;
    this.#started = this.#clock.now();
    this.#timeouts = 0;
  }
}

/**
 * Runs `step` until it succeeds, fails with an error that is not retryable, or the budget is spent;
 * then the last error is thrown.
 */
export async function withRetry<T>(
  step: (attempt: number) => Promise<T>,
  options: { policy: RetryPolicy; signal?: AbortSignal; onRetry?: (notice: RetryNotice) => void },
): Promise<T> {
  const budget = new RetryBudget(options.policy, options);
  for (let attempt = 1; ; attempt++) {
    try {
      return await step(attempt);
    } catch (error) {
      await budget.next(error);
    }
  }
}
