/**
 * Undo actions of one run (remove the builder it created, the temporary docker config, a half-written
 * tarball), run last-in first-out when the run ends: on success, on failure, and on SIGINT/SIGTERM.
 * On a signal the running command is stopped first (through `signal`), then the undo actions run, then
 * the process exits with 128 + the signal's number, as a shell would report it.
 */
export type CleanupAction = () => Promise<void> | void;

export interface CleanupScope {
  /** Registers an undo action; it runs once, before those registered earlier. */
  add(action: CleanupAction): void;
  /** Aborted when SIGINT or SIGTERM arrives: pass it to running commands. */
  readonly signal: AbortSignal;
}

/** How long a stopped command may take to exit before cleanup goes ahead without it. */
const SIGNAL_GRACE_MS = 15_000;
const SIGNAL_EXIT: Record<string, number> = { SIGINT: 130, SIGTERM: 143 };

interface ScopeOptions {
  /** Called with an undo action's error (cleanup never hides the run's own outcome). */
  onCleanupError?: (error: unknown) => void;
  /** Install SIGINT/SIGTERM handlers (default true; tests of the library may not want them). */
  handleSignals?: boolean;
  /** Told when a signal arrives, before anything is undone (a log line). */
  onSignal?: (signal: NodeJS.Signals) => void;
  /** How to end the process after a signal (default process.exit). */
  exit?: (code: number) => void;
}

/** Runs `body` with a cleanup scope; the undo actions run after it however it ends. */
export async function withCleanup<T>(
  body: (scope: CleanupScope) => Promise<T>,
  options: ScopeOptions = {},
): Promise<T> {
  const actions: CleanupAction[] = [];
  const controller = new AbortController();
  let cleaning: Promise<void> | undefined;

  const runActions = (): Promise<void> => {
    cleaning ??= (async () => {
      while (actions.length > 0) {
        const action = actions.pop() as CleanupAction;
        try {
          await action();
        } catch (error) {
          options.onCleanupError?.(error);
        }
      }
    })();
    return cleaning;
  };

  let signalled: NodeJS.Signals | undefined;
  const exit = options.exit ?? ((code: number) => process.exit(code));
  const onSignal = (signal: NodeJS.Signals) => {
    if (signalled) return;
    signalled = signal;
    options.onSignal?.(signal);
    // Stops the running command; the body then fails, and the `finally` below cleans up and exits.
    controller.abort(new Error(`stopped by ${signal}`));
    // Should the body not settle (a command that ignores SIGTERM and SIGKILL), clean up and exit anyway.
    setTimeout(
      () => void runActions().finally(() => exit(SIGNAL_EXIT[signal] ?? 1)),
      SIGNAL_GRACE_MS,
    ).unref();
  };
  const handle = options.handleSignals ?? true;
  if (handle) {
    // `on`, not `once`: a second signal while cleaning up must find this handler, not end the process.
    process.on("SIGINT", onSignal);
    process.on("SIGTERM", onSignal);
  }
  try {
    return await body({ add: (action) => actions.push(action), signal: controller.signal });
  } finally {
    await runActions();
    if (handle) {
      process.removeListener("SIGINT", onSignal);
      process.removeListener("SIGTERM", onSignal);
    }
    if (signalled) exit(SIGNAL_EXIT[signalled] ?? 1);
  }
}
