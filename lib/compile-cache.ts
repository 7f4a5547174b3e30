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
 * Where: `BUILDX_STEP_COMPILE_CACHE` (a directory, or `off`), else `$XDG_CACHE_HOME/buildx-step`, else
 * `~/.cache/buildx-step`; under it one folder per V8 version. A cache is code that runs: the folder is used
 * only when this user owns it and nobody else can write to it, and files are replaced by rename, never
 * written in place. A file's name carries its chunk's content hash (rollup's `[hash]`), size and time, and V8 refuses
 * data made by another V8, other flags or another source length; a refused or unreadable cache only
 * costs the compilation it would have saved. When new files are written, those older than 30 days are removed
 * (a run that still needs one makes it again).
 */
import {
  closeSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeSync,
} from "node:fs";
import Module from "node:module";
import { homedir } from "node:os";
import { basename, dirname, join, sep } from "node:path";
import { Script, constants as vmConstants } from "node:vm";

const OFF = new Set(["0", "off", "false", "no"]);
const STALE_MS = 30 * 24 * 60 * 60 * 1000;

/** The cache's folder for this V8, or undefined when caching is off or there is no home. */
export function compileCacheDir(env: NodeJS.ProcessEnv): string | undefined {
  const setting = env.BUILDX_STEP_COMPILE_CACHE?.trim();
  if (setting && OFF.has(setting.toLowerCase())) return undefined;
  let base = setting;
  if (!base) {
    const xdg = env.XDG_CACHE_HOME?.trim();
    if (xdg?.startsWith("/")) base = join(xdg, "buildx-step");
    else {
      const home = env.HOME?.trim() || safeHomedir();
      if (!home) return undefined;
      base = join(home, ".cache", "buildx-step");
    }
  }
  return join(base, `v8-${process.versions.v8}-${process.arch}`);
}

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

/** Why `dir` may not hold code this process runs, or undefined when it is a private folder of this user. */
function whyNotPrivate(dir: string): string | undefined {
  let stat: ReturnType<typeof lstatSync>;
  try {
    stat = lstatSync(dir);
  } catch {
    return "it does not exist yet";
  }
  const uid = process.getuid?.();
  if (!stat.isDirectory()) return "it is not a folder (a link is not followed)";
  if (uid !== undefined && stat.uid !== uid) return "another user owns it";
  if ((stat.mode & 0o022) !== 0) return "others can write to it";
  return undefined;
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
  /** Told at exit what the cache did (BUILDX_STEP_DEBUG). */
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
    // The chunk's name carries rollup's content hash; its size and time tell an edited copy from the original.
    const { size, mtimeMs } = statSync(filename);
    const file = join(cacheDir, `${basename(filename)}.${size}-${Math.trunc(mtimeMs)}.${kind}.cache`);
    let cachedData: Buffer | undefined;
    if (usable) {
      try {
        cachedData = readFileSync(file);
      } catch {
        // No cache yet.
      }
    }
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
    const written =
      pending.length > 0 && (usable || refused === "it does not exist yet")
        ? writeCaches(cacheDir, pending)
        : 0;
    report?.(
      usable || written > 0
        ? `compile cache ${cacheDir}: ${used} used, ${written} written`
        : `compile cache ${cacheDir}: not used: ${refused}`,
    );
  });
}

/**
 * Writes each script's code (with what this run compiled) beside the others; returns how many were written.
 * Any failure ends the writing quietly.
 */
function writeCaches(cacheDir: string, pending: Pending[]): number {
  let written = 0;
  try {
    mkdirSync(cacheDir, { recursive: true, mode: 0o700 });
    if (whyNotPrivate(cacheDir) !== undefined) return 0;
    for (const { script, file } of pending) {
      const temporary = `${file}.${process.pid}.tmp`;
      rmSync(temporary, { force: true });
      const fd = openSync(temporary, "wx", 0o600);
      try {
        writeSync(fd, script.createCachedData());
      } finally {
        closeSync(fd);
      }
      renameSync(temporary, file);
      written++;
    }
    const now = Date.now();
    for (const name of readdirSync(cacheDir)) {
      const path = join(cacheDir, name);
      if (now - statSync(path).mtimeMs > STALE_MS) rmSync(path, { force: true });
    }
  } catch {
    // A cache is an optimisation: a read-only home or a full disk only means the next run compiles again.
  }
  return written;
}
