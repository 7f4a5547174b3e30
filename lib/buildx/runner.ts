/**
 * The one place a `docker` command (buildx and its builder commands) is run. Argument
 * lists are built elsewhere by pure functions; this wrapper runs them with the given environment,
 * streams their output live to our stderr (stdout stays free for `--json`), and turns a failure into a
 * {@link DockerCommandFailure} that quotes the command's last error line.
 *
 * node's own `spawn`, not execa: loading execa costs 150-200 ms of CPU per run (measured here), half of
 * the 300 ms this tool may add to a cached build; the little this wrapper needs (an environment, live
 * output, stop on abort with a SIGKILL after a grace period) is a few lines.
 *
 * Secrets never travel in argv: logins reach buildx through a DOCKER_CONFIG folder in the environment,
 * secret values through `--secret id=X,env=NAME` (buildx reads the variable itself).
 */
import { spawn } from "node:child_process";
import { StepFailure } from "../errors.js";
import { LineTail, lastErrorLine, stripAnsi } from "./last-error.js";

export interface DockerCommandOptions {
  /** The child's whole environment (nothing else is inherited). */
  env: NodeJS.ProcessEnv;
  cwd?: string;
  /** Aborting it stops the command (SIGTERM, then SIGKILL after 5 s). */
  signal?: AbortSignal;
  /** Where the live output goes, in whole lines (default: our stderr). */
  write?: (text: string) => void;
  /** Applied to every line before it is written (the logger's secret masking). */
  mask?: (text: string) => string;
  /** What the command is, for the error message, e.g. "docker buildx build". */
  what?: string;
  /**
   * A person watches our stderr (a terminal): give it to the command as is, so that buildx sees a
   * terminal and draws its live view (through a pipe it could only print plain lines). Its output is
   * then neither masked nor kept for the error message: the person has just read it.
   */
  terminal?: boolean;
}

/** A `docker` command that exited non-zero or could not start: exit code 1, with its last error line. */
export class DockerCommandFailure extends StepFailure {
  constructor(
    message: string,
    /** The command's last lines of output (escape sequences removed). */
    readonly outputTail: readonly string[],
    readonly commandExitCode: number | undefined,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "DockerCommandFailure";
  }
}

export interface DockerRunner {
  /** Runs `docker ...args`, its output streamed live; resolves when it exits 0. */
  stream(args: readonly string[], options: DockerCommandOptions): Promise<void>;
  /** Runs `docker ...args` quietly and resolves to its stdout; on failure the error quotes its stderr. */
  capture(args: readonly string[], options: DockerCommandOptions): Promise<string>;
}

const DOCKER = "docker";

/** An argument as a shell would need it. */
function shellQuote(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, "'\\''")}'`;
}

/** `docker ...args` as the log shows it: each argument quoted where a shell would need it. */
export function commandLine(args: readonly string[]): string {
  return [DOCKER, ...args].map(shellQuote).join(" ");
}

const KILL_GRACE_MS = 5_000;

/** Writes whole lines only, masked; the unfinished rest waits for its newline (or `flush`). */
function lineWriter(write: (text: string) => void, mask: (text: string) => string) {
  let pending = "";
  return {
    push(chunk: string) {
      const text = pending + chunk;
      const end = text.lastIndexOf("\n");
      if (end < 0) {
        pending = text;
        return;
      }
      pending = text.slice(end + 1);
      write(mask(text.slice(0, end + 1)));
    },
    flush() {
      if (pending !== "") write(mask(`${pending}\n`));
      pending = "";
    },
  };
}

function failure(
  what: string,
  tail: LineTail,
  exitCode: number | undefined,
  cause?: unknown,
  terminal = false,
): DockerCommandFailure {
  const lines = tail.snapshot().map((line) => stripAnsi(line));
  const reason =
    lastErrorLine(lines) ??
    (cause instanceof Error ? cause.message : terminal ? "see its output above" : undefined);
  const how = exitCode === undefined ? "could not run" : `failed (exit code ${exitCode})`;
  return new DockerCommandFailure(`${what} ${how}${reason ? `: ${reason}` : ""}`, lines, exitCode, { cause });
}

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  error?: Error;
  stopped: boolean;
}

/** Spawns `docker`, feeds its output to `onData`, stops it when `signal` aborts; resolves when it is gone. */
function runDocker(
  args: readonly string[],
  options: DockerCommandOptions,
  onStdout: (data: Buffer) => void,
  onStderr: (data: Buffer) => void,
): Promise<Exit> {
  return new Promise((resolvePromise) => {
    if (options.signal?.aborted) {
      resolvePromise({ code: null, signal: null, stopped: true });
      return;
    }
    const child = spawn(DOCKER, [...args], {
      env: options.env,
      cwd: options.cwd,
      stdio: ["ignore", "pipe", options.terminal ? "inherit" : "pipe"],
    });
    let stopped = false;
    let killTimer: NodeJS.Timeout | undefined;
    const stop = () => {
      stopped = true;
      child.kill("SIGTERM");
      killTimer = setTimeout(() => child.kill("SIGKILL"), KILL_GRACE_MS);
      killTimer.unref();
    };
    options.signal?.addEventListener("abort", stop, { once: true });
    child.stdout?.on("data", onStdout);
    child.stderr?.on("data", onStderr);
    let spawnError: Error | undefined;
    child.on("error", (error) => {
      spawnError = error;
    });
    // `close`, not `exit`: all output has been read by then.
    child.on("close", (code, signal) => {
      if (killTimer) clearTimeout(killTimer);
      options.signal?.removeEventListener("abort", stop);
      resolvePromise({ code, signal, error: spawnError, stopped });
    });
  });
}

function exitFailure(
  what: string,
  exit: Exit,
  tail: LineTail,
  terminal?: boolean,
): DockerCommandFailure | undefined {
  if (exit.stopped) return new DockerCommandFailure(`${what} was stopped`, tail.snapshot(), undefined);
  if (exit.error) return failure(what, tail, undefined, exit.error);
  if (exit.code === 0) return undefined;
  if (exit.code === null) return failure(what, tail, undefined, new Error(`killed by ${exit.signal}`));
  return failure(what, tail, exit.code, undefined, terminal);
}

export const dockerRunner: DockerRunner = {
  async stream(args, options) {
    const what = options.what ?? `docker ${args.slice(0, 2).join(" ")}`;
    const mask = options.mask ?? ((text: string) => text);
    const out = lineWriter(options.write ?? ((text) => process.stderr.write(text)), mask);
    const tail = new LineTail();
    const onData = (data: Buffer) => {
      const text = data.toString("utf8");
      tail.push(mask(text));
      out.push(text);
    };
    const exit = await runDocker(args, options, onData, onData);
    out.flush();
    const error = exitFailure(what, exit, tail, options.terminal);
    if (error) throw error;
  },

  async capture(args, options) {
    const what = options.what ?? `docker ${args.slice(0, 2).join(" ")}`;
    const mask = options.mask ?? ((text: string) => text);
    const tail = new LineTail();
    const stdout: Buffer[] = [];
    const exit = await runDocker(
      args,
      options,
      (data) => stdout.push(data),
      (data) => tail.push(mask(data.toString("utf8"))),
    );
    const error = exitFailure(what, exit, tail);
    if (error) throw error;
    return Buffer.concat(stdout).toString("utf8");
  },
};
