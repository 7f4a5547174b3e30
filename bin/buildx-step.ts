#!/usr/bin/env node
// argv -> settings -> one mode -> exit code; nothing else.
// Two start-up switches come first, because they only affect code loaded after them: the rest of the CLI
// is imported below, which also lets the bundle keep this entry tiny (scripts/bundle.ts).
import module from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  cacheCompiledChunks,
  cacheDirMayHoldCode,
  commandKind,
  compileCacheDir,
} from "../lib/compile-cache.js";

// Stack traces mapped to the TypeScript sources, but only where one is printed (BUILDX_STEP_DEBUG): with
// source maps on, Node reads each loaded file's map at start-up, which every run would pay.
const debugSetting = process.env.BUILDX_STEP_DEBUG?.trim().toLowerCase();
const sourceMaps = Boolean(debugSetting && !["0", "false", "no", "off"].includes(debugSetting));
if (sourceMaps) process.setSourceMapsEnabled(true);

// Later runs skip compiling what an earlier one compiled: Node 22+ has a compile cache of its own; on Node 20
// the bundle's chunks get one here (lib/compile-cache.ts), except while stack traces are mapped (Node maps
// only the files its own loader compiled). The single executable embeds its code cache (and has no
// `import.meta.url`, nor chunks). `--debug` says what the cache did.
const cacheDir = compileCacheDir(process.env);
const enableCompileCache = (module as { enableCompileCache?: (dir: string) => unknown }).enableCompileCache;
if (cacheDir && enableCompileCache) {
  if (cacheDirMayHoldCode(cacheDir)) enableCompileCache(cacheDir);
} else if (cacheDir && import.meta.url && !sourceMaps) {
  const args = process.argv.slice(2);
  const chunks = join(dirname(fileURLToPath(import.meta.url)), "chunks");
  const report = args.includes("--debug")
    ? (line: string) => process.stderr.write(`debug: ${line}\n`)
    : undefined;
  cacheCompiledChunks(chunks, cacheDir, commandKind(args, process.env), report);
}

import("../lib/cli/start.js").then(({ start }) => start(process.argv.slice(2), process.env));
