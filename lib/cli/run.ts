import { userSettingNames } from "../config/provenance.js";
import { resolveSettings } from "../config/resolve.js";
import { secretValues } from "../config/secrets.js";
import { createLogger } from "../log.js";
import { runStep } from "../modes/run-step.js";
import { proxyCredentials } from "../registry/proxy-env.js";
import type { SecretMask } from "../secret-mask.js";
import { buildFlags, longFlag, pushFlags } from "./flags.js";
import type { Invocation } from "./main.js";

/**
 * Carries out one parsed command line: resolve the settings once, then one mode. Returns the exit code.
 * Modes are imported when chosen: the AWS SDK and dockerode (with gRPC) cost hundreds of milliseconds to
 * load, which a push of an image the registry already has, or `inspect`, must not pay.
 */
export async function runInvocation(
  invocation: Invocation,
  env: NodeJS.ProcessEnv,
  secrets: SecretMask,
): Promise<number> {
  if (invocation.command === "inspect") {
    const quiet = invocation.flags.some((f) => f.setting === "quiet");
    const { runInspect } = await import("../modes/inspect.js");
    return runInspect(invocation.tarball ?? "", {
      json: invocation.json,
      logger: createLogger({ quiet, secrets }),
    });
  }
  const resolved = await resolveSettings({
    env,
    flags: invocation.flags,
    settingsFile: invocation.settingsFile,
    step: invocation.step,
    cwd: process.cwd(),
  });
  const { settings } = resolved;
  // The run's environment: PLUGIN_ENV_FILE's variables included, as the plugin loads them into its own.
  const runEnv = resolved.env ?? env;
  const logger = createLogger({ quiet: settings.quiet, debug: settings.debug, secrets });
  for (const secret of secretValues(settings)) logger.addSecret(secret);
  for (const secret of proxyCredentials(runEnv)) logger.addSecret(secret);
  if (invocation.command === "config") {
    const { runConfig } = await import("../modes/show-config.js");
    return runConfig(resolved, { json: invocation.json });
  }
  for (const warning of resolved.warnings) logger.warn(warning);
  if (resolved.skip) {
    // The plugin's auto tag skips a build that is neither a tag nor on the default branch, and succeeds.
    logger.info(resolved.skip);
    return 0;
  }
  // In CLI mode a message names the flag to type; in plugin mode the variable to set.
  const commandFlags =
    invocation.command === "push" ? pushFlags : invocation.command === "build" ? buildFlags : [];
  const names = userSettingNames(resolved.sources, (key) => {
    const spec = commandFlags.find((flag) => flag.setting === key);
    return spec ? longFlag(spec) : undefined;
  });
  return runStep(resolved, { logger, env: runEnv, command: invocation.command, names });
}
