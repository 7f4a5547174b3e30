/**
 * The deadline of a whole push: `PLUGIN_PUSH_TIMEOUT` (`--push-timeout`), 30 minutes unless set. It
 * bounds what the per-request timeouts cannot: a registry that trickles a byte now and then, and retries
 * that add up. When it fires, the run's signal aborts with a {@link PushDeadlineExceeded} as its reason,
 * which every request, retry and wait of the registry client then fails with.
 */
import { formatDuration } from "../config/duration.js";
import { StepFailure } from "../errors.js";

export class PushDeadlineExceeded extends StepFailure {
  constructor(setting: string) {
    super(`the push did not finish within PLUGIN_PUSH_TIMEOUT=${setting}`);
    this.name = "PushDeadlineExceeded";
  }
}

interface PushDeadline {
  signal: AbortSignal;
  /** Stops the timer (the push ended). */
  clear(): void;
}

/** Starts the deadline (`ms`, as validation parsed it); `setting` is the value as written, for messages. */
export function startPushDeadline(ms: number, setting: string): PushDeadline {
  const controller = new AbortController();
  const timer = setTimeout(
    () => controller.abort(new PushDeadlineExceeded(setting.trim() || formatDuration(ms))),
    ms,
  );
  // The deadline alone never keeps the process alive.
  timer.unref();
  return { signal: controller.signal, clear: () => clearTimeout(timer) };
}
