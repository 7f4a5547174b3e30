import { resolveSettings } from "../config/resolve.js";
import { createLogger } from "../log.js";
import { runInspect } from "../modes/inspect.js";
import { runStep } from "../modes/run-step.js";
import { runConfig } from "../modes/show-config.js";
import type { Invocation } from "./main.js";

/** Carries out one parsed command line: resolve the settings once, then one mode. Returns the exit code. */
export async function runInvocation(invocation: Invocation, env: NodeJS.ProcessEnv): Promise<number> {
  if (invocation.command === "inspect") {
    const quiet = invocation.flags.some((f) => f.setting === "quiet");
    return runInspect(invocation.tarball ?? "", { json: invocation.json, logger: createLogger({ quiet }) });
  }
  const resolved = await resolveSettings({
    env,
    flags: invocation.flags,
    settingsFile: invocation.settingsFile,
    step: invocation.step,
    cwd: process.cwd(),
  });
  const { settings } = resolved;
  const logger = createLogger({ quiet: settings.quiet, debug: settings.debug });
  for (const secret of [
    settings.password,
    settings.baseImagePassword,
    settings.config,
    settings.accessKey,
    settings.secretKey,
    settings.oidcTokenId,
  ]) {
    logger.addSecret(secret);
  }
  if (invocation.command === "config") return runConfig(resolved, { json: invocation.json });
  for (const warning of resolved.warnings) logger.warn(warning);
  return runStep(resolved, { logger, env, command: invocation.command });
}
