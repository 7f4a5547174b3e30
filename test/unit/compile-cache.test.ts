// The bundle's V8 code cache on Node 20 (lib/compile-cache.ts), through the real bundle: a first run leaves
// one file per loaded chunk, a second run takes them (and so writes nothing), a damaged file is refused by
// V8 and replaced, and a folder others can write to is neither read nor written.
import assert from "node:assert/strict";
import { chmod, cp, mkdir, readdir, readFile, stat, utimes, writeFile } from "node:fs/promises";
import Module from "node:module";
import { basename, dirname, join } from "node:path";
import { test } from "node:test";
import { cachedDataVersionTag } from "node:v8";
import { commandKind, compileCacheDir } from "../../lib/compile-cache.js";
import { cliPath, runCli, runProgram } from "../helpers/cli.js";
import { generateImage } from "../helpers/random-tarball.js";
import { tempDir } from "../helpers/tmp.js";

const version = (
  JSON.parse(await readFile(new URL("../../../package.json", import.meta.url), "utf8")) as { version: string }
).version;
const v8Folder = `v8-${process.versions.v8}-${process.arch}-${cachedDataVersionTag().toString(16)}`;
const hasOwnCache = typeof (Module as { enableCompileCache?: unknown }).enableCompileCache === "function";

/** The cache's files: name -> inode and modification time. */
async function files(dir: string): Promise<Map<string, string>> {
  const names = await readdir(dir).catch(() => [] as string[]);
  const found = new Map<string, string>();
  for (const name of names) {
    const info = await stat(join(dir, name));
    found.set(name, `${info.ino}/${info.mtimeMs}`);
  }
  return found;
}

test("where the cache lives: the setting, XDG_CACHE_HOME, ~/.cache; off; one folder per V8", () => {
  assert.equal(compileCacheDir({ BUILDX_STEP_COMPILE_CACHE: "/c" }), join("/c", v8Folder));
  assert.equal(compileCacheDir({ XDG_CACHE_HOME: "/x", HOME: "/h" }), join("/x", "buildx-step", v8Folder));
  // A relative XDG_CACHE_HOME is invalid by the XDG spec and ignored.
  assert.equal(
    compileCacheDir({ XDG_CACHE_HOME: "rel", HOME: "/h" }),
    join("/h", ".cache", "buildx-step", v8Folder),
  );
  // Relative (or a "true") would write code into the working directory: the default place instead.
  for (const relative of ["./cache", "true", "on"]) {
    assert.equal(
      compileCacheDir({ BUILDX_STEP_COMPILE_CACHE: relative, HOME: "/h" }),
      join("/h", ".cache", "buildx-step", v8Folder),
    );
  }
  for (const off of ["off", "0", "false", "NO"]) {
    assert.equal(compileCacheDir({ BUILDX_STEP_COMPILE_CACHE: off, HOME: "/h" }), undefined);
  }
});

test("one cache per command: the functions a run compiles depend on it", () => {
  assert.equal(commandKind(["push", "x.tar"], {}), "push");
  assert.equal(commandKind(["--json", "config"], {}), "config");
  assert.equal(commandKind([], {}), "plugin");
  assert.equal(commandKind([], { PLUGIN_PUSH_ONLY: "true" }), "plugin-push");
});

test("a first run leaves a cache, a second one uses it, a damaged file is replaced", {
  skip: hasOwnCache && "Node has its own compile cache here (module.enableCompileCache)",
}, async () => {
  const work = await tempDir("buildx-step-compile-cache-");
  try {
    const env = {
      BUILDX_STEP_COMPILE_CACHE: join(work.path, "cache"),
      PLUGIN_REPO: "example.com/app",
    };
    const dir = join(work.path, "cache", v8Folder);
    const first = await runCli(["config", "--debug"], { env });
    assert.equal(first.code, 0, first.stderr);
    const made = await files(dir);
    assert.ok(made.size >= 1, "a cache file per chunk the run loaded");
    assert.match(first.stderr, new RegExp(`compile cache .*${v8Folder}: 0 used, ${made.size} written`));
    for (const name of made.keys()) assert.match(name, /-[\w-]+\.cjs\.\d+-\d+\.config\.cache$/);
    assert.equal((await stat(dir)).mode & 0o777, 0o700);
    for (const name of made.keys()) assert.equal((await stat(join(dir, name))).mode & 0o777, 0o600);

    const second = await runCli(["config", "--debug"], { env });
    assert.equal(second.code, 0, second.stderr);
    assert.equal(second.stdout, first.stdout);
    assert.deepEqual(await files(dir), made, "V8 took every file: none was written again");
    assert.match(second.stderr, new RegExp(`: ${made.size} used, 0 written`));

    // Damaged (as by a full disk): V8 refuses it, the run compiles as without a cache, and leaves a good one.
    const [damaged] = made.keys();
    assert.ok(damaged);
    await writeFile(join(dir, damaged), Buffer.from("not a code cache"));
    const third = await runCli(["config", "--debug"], { env });
    assert.equal(third.code, 0, third.stderr);
    assert.equal(third.stdout, first.stdout);
    const after = await files(dir);
    assert.notEqual(after.get(damaged), made.get(damaged), "the damaged file was replaced");
    assert.match(third.stderr, new RegExp(`: ${made.size - 1} used, 1 written`));
    assert.ok((await stat(join(dir, damaged))).size > 100);
    const fourth = await runCli(["config", "--debug"], { env });
    assert.equal(fourth.code, 0, fourth.stderr);
    assert.deepEqual(await files(dir), after, "and the replacement was taken");
    assert.match(fourth.stderr, new RegExp(`: ${made.size} used, 0 written`));
  } finally {
    await work.remove();
  }
});

test("a cache folder that others can write to is neither read nor written; off writes nothing", {
  skip: hasOwnCache && "Node has its own compile cache here (module.enableCompileCache)",
}, async () => {
  const work = await tempDir("buildx-step-compile-cache-");
  try {
    const dir = join(work.path, "shared", v8Folder);
    await mkdir(dir, { recursive: true });
    await chmod(dir, 0o777);
    const env = {
      BUILDX_STEP_COMPILE_CACHE: join(work.path, "shared"),
      PLUGIN_REPO: "example.com/app",
    };
    const planted = join(dir, "planted.cjs.config.cache");
    await writeFile(planted, "x");
    const run = await runCli(["config", "--debug"], { env });
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stderr, /compile cache .*: not used: others can write to it/);
    assert.deepEqual([...(await files(dir)).keys()], ["planted.cjs.config.cache"], "nothing was written");

    const off = await runCli(["config"], {
      env: {
        BUILDX_STEP_COMPILE_CACHE: "off",
        HOME: join(work.path, "home"),
        PLUGIN_REPO: "example.com/app",
      },
    });
    assert.equal(off.code, 0, off.stderr);
    assert.deepEqual(await readdir(work.path), ["shared"], "no cache folder was made");
  } finally {
    await work.remove();
  }
});

test("stack traces stay mapped to the TypeScript with BUILDX_STEP_DEBUG, with a cache made before", {
  skip: hasOwnCache && "Node has its own compile cache here (module.enableCompileCache)",
}, async () => {
  const work = await tempDir("buildx-step-compile-cache-");
  try {
    const image = await generateImage(join(work.path, "image"), [1_000], "cache/trace:v1");
    const cache = join(work.path, "cache");
    // Nothing listens on port 1: the push fails at the registry (exit 1), which prints its stack when asked.
    const args = ["push", image.tarball, "--repo", "127.0.0.1:1/cache/trace", "--tag", "v1"];
    const warm = await runCli(args, { env: { BUILDX_STEP_COMPILE_CACHE: cache } });
    assert.equal(warm.code, 1, warm.stderr);
    assert.ok((await files(join(cache, v8Folder))).size > 0, "the first run left a cache");
    const traced = await runCli(args, { env: { BUILDX_STEP_COMPILE_CACHE: cache, BUILDX_STEP_DEBUG: "1" } });
    assert.equal(traced.code, 1, traced.stderr);
    assert.match(traced.stderr, /\n\s+at .*lib\/registry\/[\w-]+\.ts:\d+:\d+/);
    assert.doesNotMatch(traced.stderr, /\n\s+at .*chunks\/[\w-]+\.cjs:/);
  } finally {
    await work.remove();
  }
});

test("a chunk edited in place, same length, does not run the code cached from the original", {
  skip: hasOwnCache && "Node has its own compile cache here (module.enableCompileCache)",
}, async () => {
  const work = await tempDir("buildx-step-compile-cache-");
  try {
    // A copy of the bundle, so that its chunk can be edited.
    const bundle = join(work.path, "bundle");
    await cp(dirname(cliPath), bundle, { recursive: true });
    const entry = join(bundle, basename(cliPath));
    const env = { PATH: process.env.PATH, BUILDX_STEP_COMPILE_CACHE: join(work.path, "cache") };
    const run = () => runProgram(process.execPath, [entry, "--version"], { env });
    const before = await run();
    assert.equal(before.stdout.trim(), version);
    assert.ok((await files(join(work.path, "cache", v8Folder))).size > 0);
    // The version is a literal in one chunk: change one digit (same length, which is all V8 checks).
    const chunks = join(bundle, "chunks");
    const edited = version.replace(/\d$/, (d) => String((Number(d) + 1) % 10));
    let changed = 0;
    for (const name of await readdir(chunks)) {
      const path = join(chunks, name);
      if (!name.endsWith(".cjs")) continue;
      const text = await readFile(path, "utf8");
      if (!text.includes(`"${version}"`)) continue;
      const before = await stat(path);
      await writeFile(path, text.replaceAll(`"${version}"`, `"${edited}"`));
      // A time of its own, even on a file system that keeps whole seconds only.
      await utimes(path, before.atime, new Date(before.mtimeMs + 5_000));
      changed++;
    }
    assert.ok(changed > 0, "the version literal was found");
    const after = await run();
    assert.equal(after.code, 0, after.stderr);
    assert.equal(after.stdout.trim(), edited, "the edited chunk ran, not the code cached from the original");
  } finally {
    await work.remove();
  }
});
