/**
 * A V8 code cache for the bundle's chunks on Node 20, which has no compile cache of its own (Node 22's
 * `module.enableCompileCache()` does the same, and is used instead where it exists). Compiling the chunks a
 * push loads is about a sixth of its run: with the code V8 compiled in an earlier run, a held push of 1 MB
 * takes about 13 ms less (89 → 76 ms here) (`node dist/scripts/bench-startup.js`, README "Install").
 *
 * How: the bundle's chunks are CommonJS files that the entry `require`s; their compilation goes through
 * `vm.Script` with the cached data of an earlier run (as v8-compile-cache did), and after a run without one
 * each chunk's code, with every function the run compiled, is written for the next. One cache per chunk and
 * per command (a push compiles other functions of a shared chunk than a build does).
 *
 * Where: `BUILDX_STEP_COMPILE_CACHE` (an absolute folder, or `off`), else `$XDG_CACHE_HOME/buildx-step`,
 * else `~/.cache/buildx-step`; under it one folder per V8 version and flags (`v8.cachedDataVersionTag`).
 * A cache is code that runs: the folder is used only when this user owns it and nobody else can write to
 * it, each file only when, opened without following a link, it is a regular file of this user that nobody
 * else can write to; files are replaced by rename, never written in place, and folders are made only
 * inside one of this user's. V8 checks a cache against its source's length only, so a file's name carries
 * the chunk's name (with rollup's content hash), size and time; an edit in place that keeps both size and
 * time (`touch -r`) is not noticed: `BUILDX_STEP_COMPILE_CACHE=off`, or remove the folder. A refused or
 * unreadable cache only costs the compilation it would have saved. A file in use has its time brought
 * forward once a day; when new files are written, files and other V8 versions' folders unused for 30 days
 * are removed.
 */
import {
  closeSync,
  constants as fsConstants,
  fstatSync,
  futimesSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import Module from "node:module";
import { homedir } from "node:os";
import { basename, dirname, join, sep } from "node:path";
import { cachedDataVersionTag } from "node:v8";
import { Script, constants as vmConstants } from "node:vm";

const OFF = new Set(["0", "off", "false", "no"]);
const DAY_MS = 24 * 60 * 60 * 1000;
const STALE_MS = 30 * DAY_MS;

/** The cache's folder for this V8, or undefined when caching is off or there is no home. */
export function compileCacheDir(env: NodeJS.ProcessEnv): string | undefined {
  const setting = env.BUILDX_STEP_COMPILE_CACHE?.trim();
  if (setting && OFF.has(setting.toLowerCase())) return undefined;
  // Relative (or "true", "on"...) would put code into the working directory: a folder must be absolute.
  let base = setting?.startsWith("/") ? setting : undefined;
  if (!base) {
    const xdg = env.XDG_CACHE_HOME?.trim();
    if (xdg?.startsWith("/")) base = join(xdg, "buildx-step");
    else {
      const home = env.HOME?.trim() || safeHomedir();
      if (!home) return undefined;
      base = join(home, ".cache", "buildx-step");
    }
  }
  // The tag covers V8's version and flags: runs with other flags (NODE_OPTIONS) do not thrash one folder.
  return join(base, `v8-${process.versions.v8}-${process.arch}-${cachedDataVersionTag().toString(16)}`);
}

/** The names of the folders `compileCacheDir` makes: the only ones the pruning may remove. */
const FOLDER_NAME = /^v8-[\w.-]+-[a-z0-9]+-[0-9a-f]+$/;

function safeHomedir(): string | undefined {
  try {
    return homedir();
  } catch {
    return undefined;
  }
}

/** Which command a run is, for the cache's name: the functions a run compiles depend on it. */
export function commandKind(argv: string[], env: NodeJS.ProcessEnv): string {
  const first = argv.find((arg) => !arg.startsWith("-"));
  if (first === "build" || first === "push" || first === "inspect" || first === "config") return first;
  const pushOnly = env.PLUGIN_PUSH_ONLY?.trim().toLowerCase();
  return pushOnly === "true" || pushOnly === "1" ? "plugin-push" : "plugin";
}

/** What `whyNotPrivate` says of a folder that is not there: the only refusal that writing may mend. */
const ABSENT = "it does not exist yet";

/** Why `dir` may not hold code this process runs, or undefined when it is a private folder of this user. */
function whyNotPrivate(dir: string): string | undefined {
  let stat: ReturnType<typeof lstatSync>;
  try {
    stat = lstatSync(dir);
  } catch {
    return ABSENT;
  }
  const uid = process.getuid?.();
  if (!stat.isDirectory()) return "it is not a folder (a link is not followed)";
  if (uid !== undefined && stat.uid !== uid) return "another user owns it";
  if ((stat.mode & 0o022) !== 0) return "others can write to it";
  return undefined;
}

/**
 * The file's bytes when it is a regular file of this user that no one else can write to, checked on the
 * open file: a folder swapped between the check of the cache folder and this read cannot feed it.
 */
function readOwnFile(file: string): Buffer | undefined {
  let fd: number;
  try {
    fd = openSync(file, fsConstants.O_RDONLY | fsConstants.O_NOFOLLOW | fsConstants.O_NONBLOCK);
  } catch {
    return undefined;
  }
  try {
    const stat = fstatSync(fd);
    const uid = process.getuid?.();
    if (!stat.isFile() || (uid !== undefined && stat.uid !== uid) || (stat.mode & 0o022) !== 0)
      return undefined;
    // A file in use is kept from the pruning by its time, brought forward at most once a day.
    const now = Date.now();
    if (now - stat.mtimeMs > DAY_MS) futimesSync(fd, now / 1000, now / 1000);
    return readFileSync(fd);
  } catch {
    return undefined;
  } finally {
    closeSync(fd);
  }
}

/** True when `dir` is private to this user, or not there yet (Node 22's own cache makes it). */
export function cacheDirMayHoldCode(dir: string): boolean {
  const why = whyNotPrivate(dir);
  return why === undefined || why === ABSENT;
}

interface Pending {
  script: Script;
  file: string;
}

/**
 * From now on, the chunks under `chunksDir` that this process `require`s are compiled with the cache in
 * `cacheDir` (for `kind`), and those compiled without one leave one behind at exit.
 */
export function cacheCompiledChunks(
  chunksDir: string,
  cacheDir: string,
  kind: string,
  /** Told at exit what the cache did (`--debug`). */
  report?: (line: string) => void,
): void {
  const prefix = chunksDir.endsWith(sep) ? chunksDir : chunksDir + sep;
  const refused = whyNotPrivate(cacheDir);
  const usable = refused === undefined;
  const pending: Pending[] = [];
  let used = 0;
  type Compile = (this: Module, content: string, filename: string) => unknown;
  const prototype = Module.prototype as unknown as { _compile: Compile };
  const original = prototype._compile;
  prototype._compile = function compileWithCache(this: Module, content: string, filename: string) {
    if (!filename.startsWith(prefix) || !filename.endsWith(".cjs"))
      return original.call(this, content, filename);
    // V8 checks only the source's length, so the name says which source the code was made from: the
    // chunk's name carries rollup's hash of its content (another build, another name), and its size and
    // time tell a copy edited in place. (A SHA-1 of the text would also catch an edit that keeps both, but
    // costs 4-5 ms a run, a tenth of the start-up.)
    const { size, mtimeMs } = statSync(filename);
    const file = join(cacheDir, `${basename(filename)}.${size}-${Math.trunc(mtimeMs)}.${kind}.cache`);
    const cachedData = usable ? readOwnFile(file) : undefined;
    const script = new Script(Module.wrap(content), {
      filename,
      cachedData,
      importModuleDynamically: vmConstants.USE_MAIN_CONTEXT_DEFAULT_LOADER,
    });
    if (!cachedData || script.cachedDataRejected) pending.push({ script, file });
    else used++;
    const wrapper = script.runInThisContext() as (...args: unknown[]) => unknown;
    return wrapper.call(
      this.exports,
      this.exports,
      Module.createRequire(filename),
      this,
      filename,
      dirname(filename),
    );
  };
  process.once("exit", () => {
    const written = pending.length > 0 && (usable || refused === ABSENT) ? writeCaches(cacheDir, pending) : 0;
    report?.(
      usable || written > 0
        ? `compile cache ${cacheDir}: ${used} used, ${written} written`
        : `compile cache ${cacheDir}: not used: ${refused}`,
    );
  });
}

/** The nearest folder of `dir` (itself or an ancestor) that exists. */
function nearestExisting(dir: string): string {
  let current = dir;
  for (;;) {
    try {
      lstatSync(current);
      return current;
    } catch {
      const parent = dirname(current);
      if (parent === current) return current;
      current = parent;
    }
  }
}

/**
 * Writes each script's code (with what this run compiled) beside the others; returns how many were written.
 * Any failure ends the writing quietly. Folders are made only inside one of this user's: root running with
 * another user's HOME (`sudo -E`) must not leave root's folders in it.
 */
function writeCaches(cacheDir: string, pending: Pending[]): number {
  let written = 0;
  try {
    const uid = process.getuid?.();
    if (uid !== undefined && lstatSync(nearestExisting(cacheDir)).uid !== uid) return 0;
    mkdirSync(cacheDir, { recursive: true, mode: 0o700 });
    if (whyNotPrivate(cacheDir) !== undefined) return 0;
    for (const { script, file } of pending) {
      const temporary = `${file}.${process.pid}.tmp`;
      rmSync(temporary, { force: true });
      const fd = openSync(temporary, "wx", 0o600);
      try {
        // writeFileSync writes it all or throws (a full disk): no cut file is put in place.
        writeFileSync(fd, script.createCachedData());
      } catch (error) {
        closeSync(fd);
        rmSync(temporary, { force: true });
        throw error;
      }
      closeSync(fd);
      renameSync(temporary, file);
      written++;
    }
    const now = Date.now();
    const stale = (path: string) => now - statSync(path).mtimeMs > STALE_MS;
    for (const name of readdirSync(cacheDir)) {
      const path = join(cacheDir, name);
      if (stale(path)) rmSync(path, { force: true });
    }
    // The folders of other Node versions (or V8 flags) whose files no run has used for as long.
    const base = dirname(cacheDir);
    for (const name of readdirSync(base)) {
      const path = join(base, name);
      if (!FOLDER_NAME.test(name) || path === cacheDir || !lstatSync(path).isDirectory()) continue;
      if (readdirSync(path).every((file) => stale(join(path, file))))
        rmSync(path, { recursive: true, force: true });
    }
  } catch {
    // A cache is an optimisation: a read-only home or a full disk only means the next run compiles again.
  }
  return written;
}
