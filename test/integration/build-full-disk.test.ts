// A tarball written to a filesystem that fills up (issue 16.6, what already held): the build fails
// (exit 1) saying so, its partial file is removed, and the tarball already at the destination stays as
// it was. The destination folder is a tmpfs of 8 MB, mounted for the test and unmounted after it.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { promisify } from "node:util";
import { runCli } from "../helpers/cli.js";
import { sampleContext } from "../helpers/images.js";
import { tempDir } from "../helpers/tmp.js";

const exec = promisify(execFile);
const asRoot = process.getuid?.() === 0;

let work: Awaited<ReturnType<typeof tempDir>>;
let mountpoint: string;
let mounted = false;

before(async () => {
  work = await tempDir("buildx-step-full-disk-");
  mountpoint = join(work.path, "small");
  await mkdir(mountpoint);
  if (asRoot) {
    await exec("mount", ["-t", "tmpfs", "-o", "size=8m", "buildx-step-test", mountpoint], {
      timeout: 10_000,
    });
    mounted = true;
  }
});
after(async () => {
  if (mounted) await exec("umount", [mountpoint], { timeout: 10_000 });
  await work?.remove();
});

test("a tarball written to a full filesystem: exit 1, the partial file removed, the destination untouched", {
  skip: !asRoot && "mounting a tmpfs needs root",
}, async () => {
  const dest = join(mountpoint, "image.tar");
  const earlier = "the tarball of an earlier run\n";
  await writeFile(dest, earlier);
  // 12 MB of incompressible data: more than the 8 MB the folder can hold.
  const context = await sampleContext(join(work.path, "ctx"), {
    files: { "big.bin": randomBytes(12 * 1024 * 1024) },
  });
  const result = await runCli([], {
    cwd: context,
    env: { PLUGIN_DRY_RUN: "true", PLUGIN_TAR_PATH: dest, CI: "true" },
  });
  assert.equal(result.code, 1, result.stderr);
  assert.match(result.stderr, /no space left on device/i);
  assert.deepEqual(await readdir(mountpoint), ["image.tar"], "no partial file left");
  assert.equal(await readFile(dest, "utf8"), earlier);
});
