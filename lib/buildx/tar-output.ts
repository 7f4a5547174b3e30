/**
 * The tarball a build writes: first to a temporary file beside the destination (same folder, so the
 * final rename is atomic and never crosses file systems), renamed over the destination only once the
 * build succeeded. An existing tarball is therefore replaced only by a complete new one.
 */
import { mkdir, rename, rm, stat } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import { UsageError } from "../errors.js";

interface PendingTarball {
  /** The final path. */
  dest: string;
  /** Where the build writes. */
  temp: string;
  /** Moves the written file to `dest`. */
  commit(): Promise<void>;
  /** Removes the temporary file (no-op after commit). */
  discard(): Promise<void>;
}

/** The temporary name for `dest`: hidden, in the same folder, unique. Pure. */
export function temporaryTarPath(
  dest: string,
  // Unique among runs on this machine (pid) and within one (time); no crypto needed for a file name.
  random = `${process.pid}-${Date.now().toString(36)}`,
): string {
  return join(dirname(dest), `.${basename(dest)}.${random}.partial`);
}

/** Creates the destination's folder and reserves a temporary file name beside it. */
export async function prepareTarball(path: string, cwd: string): Promise<PendingTarball> {
  const dest = resolve(cwd, path);
  const existing = await stat(dest).catch(() => undefined);
  if (existing?.isDirectory()) {
    throw new UsageError(`PLUGIN_TAR_PATH ${dest} is a folder: give the path of the tarball file to write`);
  }
  try {
    await mkdir(dirname(dest), { recursive: true });
  } catch (error) {
    throw new UsageError(
      `PLUGIN_TAR_PATH: cannot create the folder ${dirname(dest)} (${(error as NodeJS.ErrnoException).code ?? "error"})`,
    );
  }
  const temp = temporaryTarPath(dest);
  let committed = false;
  return {
    dest,
    temp,
    async commit() {
      await rename(temp, dest);
      committed = true;
    },
    async discard() {
      if (!committed) await rm(temp, { force: true });
    },
  };
}
