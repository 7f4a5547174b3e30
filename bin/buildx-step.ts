#!/usr/bin/env node
// argv -> settings -> one mode -> exit code; nothing else.
import { main } from "../lib/cli/main.js";
import { runInvocation } from "../lib/cli/run.js";

process.exitCode = await main(process.argv.slice(2), process.env, runInvocation);
