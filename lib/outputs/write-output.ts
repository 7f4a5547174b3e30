/**
 * How result files (DRONE_OUTPUT, the artifact file, the metadata file) are written: never through a
 * symbolic link at the final path. A link planted there (by an earlier step of the stage, or a checked-out
 * repository) would otherwise make this step write wherever it points; instead the link is replaced by a
 * regular file, as the tarball output is (written beside, then renamed over the final path).
 */
import { constants } from "node:fs";
import { lstat, mkdir, open, rename, rm, writeFile } from "node:fs/promises";
import { basename, dirname, join } from "node:path";

/** A temporary name beside `path` (same folder, so the rename is atomic and never crosses file systems). */
function besides(path: string): string {
  return join(dirname(path), `.${basename(path)}.${process.pid}-${Date.now().toString(36)}.partial`);
}

/** Writes `content` as the whole of `path`, replacing what is there (a link included) in one rename. */
export async function replaceFile(path: string, content: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const temp = besides(path);
  try {
    await writeFile(temp, content, { flag: "wx" });
    await rename(temp, path);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}

/**
 * Appends `content` to the regular file at `path` (created when missing): other steps of the stage add
 * their variables to the same file. A link at `path` is not followed: it is replaced by a file holding
 * only `content`.
 */
export async function appendFile(path: string, content: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const existing = await lstat(path).catch(() => undefined);
  if (existing && !existing.isFile()) {
    await replaceFile(path, content);
    return;
  }
  // O_NOFOLLOW also covers a link planted between the lstat and the open.
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(
      path,
      constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW,
    );
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ELOOP") throw error;
    await replaceFile(path, content);
    return;
  }
  try {
    await handle.writeFile(content);
  } finally {
    await handle.close();
  }
}
