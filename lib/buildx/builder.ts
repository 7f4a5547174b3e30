/**
 * The builder a build runs on. The engine's own `docker` driver needs nothing; any other
 * `PLUGIN_BUILDER_DRIVER` gets a builder created for this run, bootstrapped before the build (so a
 * builder that cannot start fails early, with buildx's reason), and removed when the run ends, also when
 * the build failed or the run was stopped.
 */
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import type { Settings } from "../config/settings.js";
import { UsageError } from "../errors.js";
import { builderBootstrapArgs, builderCreateArgs, builderRemoveArgs, createdDriver } from "./builder-args.js";
import { builderEnvOpts } from "./builder-env-opts.js";
import type { CleanupScope } from "./cleanup.js";
import type { DockerCommandOptions, DockerRunner } from "./runner.js";

/** buildx's rule for builder names. */
const BUILDER_NAME = /^[a-zA-Z][a-zA-Z0-9_.-]*$/;

/** `PLUGIN_BUILDER_NAME` if set, else a name no other run uses. */
export function builderName(
  settings: Pick<Settings, "builderName">,
  random = randomBytes(4).toString("hex"),
): string {
  const name = settings.builderName?.trim() ?? "";
  if (name === "") return `buildx-step-${random}`;
  if (!BUILDER_NAME.test(name)) {
    throw new UsageError(
      `PLUGIN_BUILDER_NAME="${name}" is not a builder name: start with a letter, then letters, digits, _ . -`,
      ["PLUGIN_BUILDER_NAME"],
    );
  }
  return name;
}

export interface BuilderContext {
  /** The run's environment: its proxies and HARNESS_CA_PATH become driver options. */
  env: NodeJS.ProcessEnv;
  runner: DockerRunner;
  scope: CleanupScope;
  command: DockerCommandOptions;
  info: (message: string) => void;
  warn: (message: string) => void;
}

/**
 * The `--builder` for the build: undefined for the current builder, the user's `PLUGIN_BUILDER_NAME` with
 * the docker driver, or a builder created now (its removal registered with the scope first, so that a
 * failed bootstrap removes it too).
 */
export async function prepareBuilder(
  settings: Settings,
  context: BuilderContext,
): Promise<string | undefined> {
  const driver = createdDriver(settings);
  if (!driver) return settings.builderName?.trim() || undefined;
  const name = builderName(settings);
  const fromEnv = builderEnvOpts(driver, context.env, settings.builderDriverOpts);
  for (const warning of fromEnv.warnings) context.warn(warning);
  for (const note of fromEnv.notes) context.info(note);
  const caPath = context.env.HARNESS_CA_PATH;
  if (caPath && driver === "docker-container" && !existsSync(caPath)) {
    // As the plugin warns; the option is passed all the same.
    context.warn(`HARNESS_CA_PATH is set to ${caPath}, but there is no such file`);
  }
  const createArgs = builderCreateArgs(settings, {
    name,
    driverOpts: settings.builderDriverOpts,
    envOpts: fromEnv.opts,
    configFile: settings.builderConfig,
  });
  context.info(`creating builder ${name} (driver ${driver})`);
  await context.runner.capture(createArgs, { ...context.command, what: "docker buildx create" });
  context.scope.add(async () => {
    try {
      // Not the run's signal: removal must still run when the run was stopped.
      await context.runner.capture(builderRemoveArgs(name), {
        ...context.command,
        signal: undefined,
        what: "docker buildx rm",
      });
      context.info(`removed builder ${name}`);
    } catch (error) {
      context.warn(`could not remove builder ${name}: ${(error as Error).message}`);
    }
  });
  await context.runner.stream(builderBootstrapArgs(name), {
    ...context.command,
    what: `bootstrapping builder ${name} (docker buildx inspect --bootstrap)`,
  });
  return name;
}
