/**
 * A temporary file that does not outlive the run: created 0600 in a new 0700 folder, removed by
 * `remove()`, and also when the process exits or is stopped by SIGINT, SIGTERM or SIGHUP before that
 * (a Ctrl-C during a long decompression must not leave a GiB behind in $TMPDIR).
 */
import { rmSync } from "node:fs";
import { mkdtemp, open, rm } from "node:fs/promises";
import { join } from "node:path";

const SIGNALS: NodeJS.Signals[] = ["SIGINT", "SIGTERM", "SIGHUP"];

export interface TemporaryFile {
  /** The file's path (it exists, empty, when created). */
  path: string;
  /** Removes the file and its folder; safe to call more than once. */
  remove(): Promise<void>;
}

/** Creates an empty file named `name` in a new folder under `parent`. */
export async function createTemporaryFile(parent: string, name: string): Promise<TemporaryFile> {
  const folder = await mkdtemp(join(parent, "buildx-step-"));
  const path = join(folder, name);
  let removed = false;

  const removeNow = () => {
    if (removed) return;
    removed = true;
    rmSync(folder, { recursive: true, force: true });
  };
  const onSignal = (signal: NodeJS.Signals) => {
    removeNow();
    unhook();
    // Ended as the signal would have ended it, unless someone else (the build's cleanup) handles it.
    if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
  };
  const unhook = () => {
    process.removeListener("exit", removeNow);
    for (const signal of SIGNALS) process.removeListener(signal, onSignal);
  };
  process.on("exit", removeNow);
  for (const signal of SIGNALS) process.on(signal, onSignal);

  try {
    const handle = await open(path, "wx", 0o600);
    await handle.close();
  } catch (error) {
    unhook();
    removeNow();
    throw error;
  }
  return {
    path,
    async remove() {
      unhook();
      if (removed) return;
      removed = true;
      await rm(folder, { recursive: true, force: true });
    },
  };
}
