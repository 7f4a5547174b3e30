#!/usr/bin/env node
// argv -> settings -> one mode -> exit code; nothing else.
// Two start-up switches come first, because they only affect code loaded after them: the rest of the CLI
// is imported below, which also lets the bundle keep this entry tiny (scripts/bundle.ts).
import module from "node:module";

// Node 22+ keeps V8's compiled code of every module loaded from here on, so later runs skip compiling it.
// Node 20 has no such cache (the single executable embeds one instead): there this does nothing.
(module as { enableCompileCache?: () => unknown }).enableCompileCache?.();

// Stack traces mapped to the TypeScript sources, but only where one is printed (BUILDX_STEP_DEBUG): with
// source maps on, Node reads each loaded file's map at start-up, which every run would pay.
const debug = process.env.BUILDX_STEP_DEBUG?.trim().toLowerCase();
if (debug && !["0", "false", "no", "off"].includes(debug)) process.setSourceMapsEnabled(true);

import("../lib/cli/start.js").then(({ start }) => start(process.argv.slice(2), process.env));
