import { main } from "./main.js";
import { runInvocation } from "./run.js";

/** Runs the command line and sets the process's exit code (0, 1 for a failed step, 2 for bad input). */
export async function start(argv: string[], env: NodeJS.ProcessEnv): Promise<void> {
  process.exitCode = await main(argv, env, runInvocation);
}
