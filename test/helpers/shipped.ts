/**
 * The shipped forms of buildx-step, made for the tests that run them as users do: the single executable
 * (scripts/build-sea.sh) and the plugin image (scripts/build-image.sh, which makes its base image locally
 * when it cannot be pulled). Each is made when missing or older than the bundle `npm run build` wrote.
 */
import { execFile } from "node:child_process";
import { stat } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { cliPath } from "./cli.js";

const exec = promisify(execFile);

export const repoRoot = join(cliPath, "..", "..", "..");

/** The architecture name Docker and the executable's file name use for this machine. */
export function dockerArch(): string {
  return process.arch === "x64" ? "amd64" : process.arch;
}

const newer = async (file: string, than: string): Promise<boolean> => {
  const [a, b] = await Promise.all([stat(file).catch(() => undefined), stat(than)]);
  return a !== undefined && a.mtimeMs >= b.mtimeMs;
};

/** The single executable for this machine, built first when needed. */
export async function singleExecutable(): Promise<string> {
  const file = join(repoRoot, "dist", "sea", `buildx-step-linux-${dockerArch()}`);
  if (!(await newer(file, join(repoRoot, "dist", "sea", "buildx-step.cjs")))) {
    await exec("bash", [join(repoRoot, "scripts", "build-sea.sh"), dockerArch()], { maxBuffer: 1 << 24 });
  }
  return file;
}

/** The plugin image, tagged `tag`, built from the Dockerfile (and its base image made) when needed. */
export async function pluginImage(tag = "buildx-step:test"): Promise<string> {
  await singleExecutable();
  const { stdout } = await exec("bash", [join(repoRoot, "scripts", "build-image.sh"), tag], {
    maxBuffer: 1 << 24,
    timeout: 15 * 60_000,
  });
  return stdout.trim();
}
