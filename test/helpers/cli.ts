import { type ChildProcess, execFile, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

/** The published bin (package.json `bin`): the bundle `npm run build` makes (scripts/bundle.ts). */
export const cliPath = fileURLToPath(new URL("../../bundle/buildx-step.cjs", import.meta.url));

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs a program to its end: its exit code (1 when it had none, e.g. killed or not found) and both
 * streams, whether it failed or not. Only `env` is its environment when given.
 */
export function runProgram(
  command: string,
  args: string[],
  options: { env?: NodeJS.ProcessEnv; cwd?: string } = {},
): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(
      command,
      args,
      { env: options.env, cwd: options.cwd, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === "number" ? error.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/**
 * Runs buildx-step as a user would: a new process, its own environment (nothing of the test runner's
 * PLUGIN_* leaks in unless given), exit code and both streams captured.
 */
export function runCli(
  args: string[],
  options: { env?: NodeJS.ProcessEnv; cwd?: string; inheritEnv?: boolean } = {},
): Promise<CliResult> {
  const base: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME };
  if (process.env.DOCKER_HOST) base.DOCKER_HOST = process.env.DOCKER_HOST;
  const env = { ...(options.inheritEnv ? process.env : base), ...options.env };
  return runProgram(process.execPath, [cliPath, ...args], { env, cwd: options.cwd });
}

/** A running buildx-step, for tests that signal it; `done` settles with its exit code and output. */
export interface RunningCli {
  child: ChildProcess;
  /** stderr so far. */
  stderr(): string;
  done: Promise<CliResult>;
}

/** Starts buildx-step as {@link runCli} does, without waiting for it. */
export function startCli(
  args: string[],
  options: { env?: NodeJS.ProcessEnv; cwd?: string } = {},
): RunningCli {
  const base: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME };
  const child = spawn(process.execPath, [cliPath, ...args], {
    env: { ...base, ...options.env },
    cwd: options.cwd,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (d: Buffer) => {
    stdout += d.toString();
  });
  child.stderr?.on("data", (d: Buffer) => {
    stderr += d.toString();
  });
  const done = new Promise<CliResult>((resolve) => {
    child.once("close", (code, signal) => resolve({ code: code ?? (signal ? 128 : 1), stdout, stderr }));
  });
  return { child, stderr: () => stderr, done };
}
