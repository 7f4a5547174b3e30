/**
 * Runs the pipelines in examples/ the way their runners would, with the real engine, buildx and a real
 * registry: a folder of stand-ins on PATH (`buildx-step` is this build; `trivy`, which cannot be installed
 * here, reads the tarball with skopeo, an independent reader, and records that it ran), and the commands
 * run by `sh -c` in the step's environment.
 */
import { chmod, mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { type CliResult, cliPath, runProgram } from "./cli.js";

export const examplesDir = join(cliPath, "..", "..", "..", "examples");

export interface StandIns {
  /** PATH with the stand-ins first. */
  path: string;
  /** Where the trivy stand-in records each tarball it scanned, one per line. */
  scanLog: string;
}

/**
 * Writes the `buildx-step` and `trivy` stand-ins into `dir`. `buildxStep` is the command that runs
 * buildx-step: the bundle with this Node by default, or the single executable.
 */
export async function writeStandIns(
  dir: string,
  buildxStep: string[] = [process.execPath, cliPath],
): Promise<StandIns> {
  const bin = join(dir, "bin");
  await mkdir(bin, { recursive: true });
  const scanLog = join(dir, "scanned.log");
  const command = buildxStep.map((part) => `"${part}"`).join(" ");
  await writeFile(join(bin, "buildx-step"), `#!/bin/sh\nexec ${command} "$@"\n`);
  // trivy's `--input FILE` is the last argument; the stand-in fails as trivy would on an unreadable file.
  await writeFile(
    join(bin, "trivy"),
    `#!/bin/sh\nfor last; do :; done\nskopeo inspect --raw "docker-archive:$last" >/dev/null || exit 1\necho "$last" >> "${scanLog}"\n`,
  );
  await chmod(join(bin, "buildx-step"), 0o755);
  await chmod(join(bin, "trivy"), 0o755);
  return { path: `${bin}:${process.env.PATH}`, scanLog };
}

/** A step's exit code and output. */
export type StepRun = CliResult;

/** Runs one step's commands with `sh -e -c`, in `cwd`, with only `env` (and PATH) set. */
export async function runStepCommands(
  commands: string,
  cwd: string,
  env: Record<string, string>,
): Promise<StepRun> {
  return runProgram("sh", ["-e", "-c", commands], { cwd, env: { HOME: process.env.HOME, ...env } });
}
