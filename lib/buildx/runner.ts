/**
 * How a `docker` command (buildx and its builder commands) is run. Argument lists are built elsewhere
 * by pure functions; this runs them through the one exec (lib/exec/exec.ts) with the given environment,
 * streams their output live to our stderr (stdout stays free for `--json`), and turns a failure into a
 * {@link DockerCommandFailure} that quotes the command's last error line.
 */
import { StepFailure } from "../errors.js";
import { type ExecOptions, type Exit, exec } from "../exec/exec.js";
import { LineTail, lastErrorLine, stripAnsi } from "./last-error.js";

export interface DockerCommandOptions
  extends Pick<ExecOptions, "env" | "cwd" | "signal" | "log" | "terminal"> {
  /** Where the live output goes, in whole lines (default: our stderr). */
  write?: (text: string) => void;
  /** Applied to every line before it is written (the logger's secret masking), and to the command line. */
  mask?: (text: string) => string;
  /** What the command is, for the error message, e.g. "docker buildx build". */
  what?: string;
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
    const exit = await exec(DOCKER, args, {
      ...options,
      onStdout: onData,
      onStderr: onData,
    });
    out.flush();
    const error = exitFailure(what, exit, tail, options.terminal);
    if (error) throw error;
  },

  async capture(args, options) {
    const what = options.what ?? `docker ${args.slice(0, 2).join(" ")}`;
    const mask = options.mask ?? ((text: string) => text);
    const tail = new LineTail();
    const stdout: Buffer[] = [];
    const exit = await exec(DOCKER, args, {
      ...options,
      onStdout: (data) => stdout.push(data),
      onStderr: (data) => tail.push(mask(data.toString("utf8"))),
    });
    const error = exitFailure(what, exit, tail);
    if (error) throw error;
    return Buffer.concat(stdout).toString("utf8");
  },
};
