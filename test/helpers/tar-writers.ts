/**
 * Tar files written by real tar writers, at test time, from a folder of files: GNU tar in each of its
 * formats, Python's tarfile in each of its, and BusyBox tar. What image tools write is one of these
 * (docker, containerd and skopeo write Go's archive/tar's ustar/PAX, which GNU tar and tarfile read and
 * write alike); no binary tar is checked in.
 */
import { execFile } from "node:child_process";
import { link, mkdir, open, readdir, symlink, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { promisify } from "node:util";

const exec = promisify(execFile);

export type GnuFormat = "ustar" | "pax" | "gnu" | "oldgnu" | "v7";
export type PythonFormat = "USTAR_FORMAT" | "GNU_FORMAT" | "PAX_FORMAT";

export type TarWriter =
  | { tool: "gnu-tar"; format: GnuFormat; sparse?: "gnu" | "0.0" | "0.1" | "1.0" }
  | { tool: "python"; format: PythonFormat }
  | { tool: "busybox" };

export function writerName(writer: TarWriter): string {
  if (writer.tool === "busybox") return "busybox tar";
  if (writer.tool === "python") return `python tarfile ${writer.format}`;
  return `GNU tar --format=${writer.format}${writer.sparse ? ` --sparse (${writer.sparse})` : ""}`;
}

/** What goes into the folder a writer archives. Names use `/` and never `.` or `..` as a part. */
export type TreeItem =
  | { name: string; data: Buffer | string }
  | { name: string; symlinkTo: string }
  | { name: string; hardlinkTo: string }
  /** A file of `size` bytes that are zeros but for `data` at its end: a file with a hole. */
  | { name: string; holeThen: Buffer; size: number };

/** Writes `items` into the folder `root` (links after the files they name). */
export async function writeTree(root: string, items: readonly TreeItem[]): Promise<void> {
  await mkdir(root, { recursive: true });
  const ordered = [...items].sort((a, b) => Number("hardlinkTo" in a) - Number("hardlinkTo" in b));
  for (const item of ordered) {
    const path = join(root, item.name);
    await mkdir(dirname(path), { recursive: true });
    if ("data" in item) await writeFile(path, item.data);
    else if ("symlinkTo" in item) await symlink(item.symlinkTo, path);
    else if ("hardlinkTo" in item) await link(join(root, item.hardlinkTo), path);
    else {
      await writeFile(path, "");
      // Written at the end only: the bytes before stay a hole the file system does not store.
      const handle = await open(path, "r+");
      await handle.write(item.holeThen, 0, item.holeThen.length, item.size - item.holeThen.length);
      await handle.close();
    }
  }
}

const PYTHON_WRITER = `
import sys, tarfile, os
root, out, fmt = sys.argv[1], sys.argv[2], sys.argv[3]
with tarfile.open(out, "w", format=getattr(tarfile, fmt)) as tar:
    for name in sorted(os.listdir(root)):
        tar.add(os.path.join(root, name), arcname=name)
`;

/** Archives the content of folder `root` into `out` with `writer`; the writer's refusal rejects. */
export async function writeTarWith(writer: TarWriter, root: string, out: string): Promise<string> {
  if (writer.tool === "busybox") {
    await exec("busybox", ["tar", "-c", "-f", out, "-C", root, "."]);
  } else if (writer.tool === "python") {
    await exec("python3", ["-c", PYTHON_WRITER, root, out, writer.format]);
  } else {
    const sparse =
      writer.sparse === undefined
        ? []
        : writer.sparse === "gnu"
          ? ["--sparse"]
          : ["--sparse", `--sparse-version=${writer.sparse}`];
    // The folder's own names, not `.`: v7 has no room for a `./` before a 99-byte name.
    const names = (await readdir(root)).sort();
    await exec("tar", [`--format=${writer.format}`, ...sparse, "-c", "-f", out, "-C", root, "--", ...names]);
  }
  return out;
}
