import type { SettingNames } from "../config/provenance.js";
import type { ValidatedSettings } from "../config/settings.js";
import type { Logger } from "../log.js";

interface StepContext {
  logger: Logger;
  env: NodeJS.ProcessEnv;
  /** Which command asked: plugin mode picks the mode from the settings; build and push are explicit. */
  command: "plugin" | "build" | "push";
  /** How messages name settings (flags in CLI mode). */
  names?: SettingNames;
}

/**
 * Runs the one mode the settings ask for and returns the exit code. Each mode is imported when chosen:
 * a push must not pay for loading the build's and the engine's libraries (dockerode, gRPC) at start.
 * A protocol failure leaves with the hint that names the setting to change, as the user named it.
 */
export async function runStep(resolved: ValidatedSettings, context: StepContext): Promise<number> {
  try {
    return await runMode(resolved, context);
  } catch (error) {
    const { withSettingHints } = await import("./setting-hints.js");
    throw withSettingHints(error, context.names);
  }
}

async function runMode(resolved: ValidatedSettings, context: StepContext): Promise<number> {
  const { settings } = resolved;
  // `push` sets PLUGIN_PUSH_ONLY and `build` clears it (as flags, above every other source).
  if (settings.pushOnly) {
    const { runPushOnly } = await import("./push-only.js");
    await runPushOnly(resolved, { logger: context.logger, env: context.env, names: context.names });
    return 0;
  }
  // PLUGIN_BAKE_FILE switches the build to bake (validation refuses it beside push-only).
  if (settings.bakeFile) {
    const { runBake } = await import("./bake.js");
    await runBake(resolved, { logger: context.logger, env: context.env });
    return 0;
  }
  const { runBuild } = await import("./build.js");
  await runBuild(resolved, {
    logger: context.logger,
    env: context.env,
    command: context.command === "build" ? "build" : "plugin",
    names: context.names,
  });
  return 0;
}
