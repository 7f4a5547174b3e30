/**
 * The one way this tool runs a program: `docker` (buildx and the engine's commands, through
 * buildx/runner.ts) and credential helpers (auth/cred-helper.ts). The child gets exactly the environment
 * given; its output is handed over as it arrives; stdin is fed from a string or closed; it is stopped on
 * abort or timeout (SIGTERM, then SIGKILL after a grace period); and its command line is logged here,
 * masked, when the caller asks.
 *
 * node's own `spawn`, not execa: loading execa costs 150-200 ms of CPU per run (measured here), half of
 * the 300 ms this tool may add to a cached build; the little needed here is a few lines.
 *
 * Secrets never travel in argv: logins reach buildx through a DOCKER_CONFIG folder in the environment,
 * secret values through `--secret id=X,env=NAME`, a helper's server address through stdin. The command
 * line is masked all the same, as every line of the log is.
 */
import { spawn } from "node:child_process";

export interface ExecOptions {
  /** The child's whole environment (nothing else is inherited); its PATH finds the program. */
  env: NodeJS.ProcessEnv;
  cwd?: string;
  /** Aborting it stops the process (SIGTERM, then SIGKILL after 5 s). */
  signal?: AbortSignal;
  /** Stops the process as an abort does once this much time has passed. */
  timeoutMs?: number;
  /** Written to the process's stdin, which is then closed (without it, stdin is closed at once). */
  input?: string;
  /** The process writes to our own stderr (a terminal a person watches) instead of `onStderr`. */
  inheritStderr?: boolean;
  onStdout?: (data: Buffer) => void;
  onStderr?: (data: Buffer) => void;
  /** Told the command line (`+ docker buildx build ...`), masked, before the process starts. */
  log?: (line: string) => void;
  /** The run's secret masking, applied to the logged command line. */
  mask?: (text: string) => string;
}

/** How a process ended. */
export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** It could not be run (`ENOENT`: not on PATH). */
  error?: NodeJS.ErrnoException;
  /** Stopped by `signal`. */
  stopped: boolean;
  /** Stopped by `timeoutMs`. */
  timedOut: boolean;
}

const KILL_GRACE_MS = 5_000;

/** An argument as a shell would need it. */
function shellQuote(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, "'\\''")}'`;
}

/** `program ...args` as the log shows it: each argument quoted where a shell would need it. */
export function commandLine(program: string, args: readonly string[]): string {
  return [program, ...args].map(shellQuote).join(" ");
}

/** Runs `program ...args`; resolves when it is gone and all its output was handed over. Never rejects. */
export function exec(program: string, args: readonly string[], options: ExecOptions): Promise<Exit> {
  const mask = options.mask ?? ((text: string) => text);
  options.log?.(mask(`+ ${commandLine(program, args)}`));
  return new Promise((resolvePromise) => {
    if (options.signal?.aborted) {
      resolvePromise({ code: null, signal: null, stopped: true, timedOut: false });
      return;
    }
    const child = spawn(program, [...args], {
      env: options.env,
      cwd: options.cwd,
      stdio: [
        options.input === undefined ? "ignore" : "pipe",
        "pipe",
        options.inheritStderr ? "inherit" : "pipe",
      ],
    });
    let stopped = false;
    let timedOut = false;
    let killTimer: NodeJS.Timeout | undefined;
    const stop = () => {
      if (killTimer) return;
      child.kill("SIGTERM");
      killTimer = setTimeout(() => child.kill("SIGKILL"), KILL_GRACE_MS);
      killTimer.unref();
    };
    const onAbort = () => {
      stopped = true;
      stop();
    };
    options.signal?.addEventListener("abort", onAbort, { once: true });
    const timeout =
      options.timeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            timedOut = true;
            stop();
          }, options.timeoutMs);
    if (options.input !== undefined) {
      // A process that exits without reading its stdin breaks the pipe: its exit code tells what happened.
      child.stdin?.on("error", () => {});
      child.stdin?.end(options.input);
    }
    // Read even when nobody wants it: a pipe left full would block the process.
    child.stdout?.on("data", options.onStdout ?? (() => {}));
    child.stderr?.on("data", options.onStderr ?? (() => {}));
    let error: NodeJS.ErrnoException | undefined;
    child.on("error", (spawnError) => {
      error = spawnError;
    });
    // `close`, not `exit`: all output has been read by then.
    child.on("close", (code, signal) => {
      if (killTimer) clearTimeout(killTimer);
      if (timeout) clearTimeout(timeout);
      options.signal?.removeEventListener("abort", onAbort);
      resolvePromise({ code, signal, error, stopped, timedOut });
    });
  });
}
