/**
 * The one way this tool runs a program: `docker` (through buildx/runner.ts) and credential helpers
 * (auth/cred-helper.ts), and the one place a command line is logged, masked as every log line is.
 * node's own `spawn`, not execa: loading execa costs 150-200 ms of CPU per run (measured here), half of
 * the 300 ms this tool may add to a cached build, and what is needed here is a few lines.
 * Secrets never travel in argv: logins reach buildx through a DOCKER_CONFIG folder in the environment,
 * secret values through `--secret id=X,env=NAME`, a helper's server address through stdin.
 */

export interface ExecOptions {
  /** The child's whole environment (nothing else is inherited); its PATH finds the program. */
  env: NodeJS.ProcessEnv;
  cwd?: string;
  /** Aborting it stops the process (SIGTERM, then SIGKILL after 5 s); so does `timeoutMs` passing. */
  signal?: AbortSignal;
  timeoutMs?: number;
  /** Written to stdin, which is then closed (without it, there is no stdin). */
  input?: string;
  /** A person watches our stderr: the process writes to it itself (a live view), unmasked, not handed over. */
  terminal?: boolean;
  onStdout?: (data: Buffer) => void;
  onStderr?: (data: Buffer) => void;
  /** Told the command line (`+ docker buildx build ...`), masked with `mask`, before the process starts. */
  log?: (line: string) => void;
  mask?: (text: string) => string;
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** It could not be run (`ENOENT`: not on PATH). */
  error?: NodeJS.ErrnoException;
  /** Stopped by `signal`; by `timeoutMs`. */
  stopped: boolean;
  timedOut: boolean;
}

const KILL_GRACE_MS = 5_000;

/** `program ...args` as the log shows it: each argument quoted where a shell would need it. */
function commandLine(program: string, args: readonly string[]): string {
  const quote = (arg: string) => (/^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, "'\\''")}'`);
  return [program, ...args].map(quote).join(" ");
}

/** Runs `program ...args`; resolves when it is gone and all its output was handed over. Never rejects. */
export function exec(program: string, args: readonly string[], options: ExecOptions): Promise<Exit> {
  options.log?.((options.mask ?? String)(`+ ${commandLine(program, args)}`));
  return new Promise((resolvePromise) => {
    if (options.signal?.aborted) {
      resolvePromise({ code: null, signal: null, stopped: true, timedOut: false });
      return;
    }
    const stdin = options.input === undefined ? "ignore" : "pipe";
    // Loaded at the first child process: a push of a tarball starts none.
    const child = process.getBuiltinModule("node:child_process").spawn(program, [...args], {
      env: options.env,
      cwd: options.cwd,
      stdio: [stdin, "pipe", options.terminal ? "inherit" : "pipe"],
    });
    const exit: Exit = { code: null, signal: null, stopped: false, timedOut: false };
    let killTimer: NodeJS.Timeout | undefined;
    const stop = (timedOut: boolean) => {
      exit.stopped ||= !timedOut;
      exit.timedOut ||= timedOut;
      if (killTimer) return;
      child.kill("SIGTERM");
      killTimer = setTimeout(() => child.kill("SIGKILL"), KILL_GRACE_MS).unref();
    };
    const onAbort = () => stop(false);
    options.signal?.addEventListener("abort", onAbort, { once: true });
    const timeout =
      options.timeoutMs === undefined ? undefined : setTimeout(() => stop(true), options.timeoutMs);
    // A process that exits without reading its stdin breaks the pipe: its exit code tells what happened.
    child.stdin?.on("error", () => {}).end(options.input);
    // Read even when nobody wants it: a full pipe would block the process.
    child.stdout?.on("data", options.onStdout ?? (() => {}));
    child.stderr?.on("data", options.onStderr ?? (() => {}));
    child.on("error", (error) => {
      exit.error = error;
    });
    // `close`, not `exit`: all output has been read by then.
    child.on("close", (code, signal) => {
      clearTimeout(killTimer);
      clearTimeout(timeout);
      options.signal?.removeEventListener("abort", onAbort);
      resolvePromise({ ...exit, code, signal });
    });
  });
}
