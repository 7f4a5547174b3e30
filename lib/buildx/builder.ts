/**
 * The builder a build runs on. The engine's own `docker` driver needs nothing; any other
 * `PLUGIN_BUILDER_DRIVER` gets a builder created for this run, bootstrapped before the build (so a
 * builder that cannot start fails early, with buildx's reason), and removed when the run ends, also when
 * the build failed or the run was stopped.
 */
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Settings } from "../config/settings.js";
import { UsageError } from "../errors.js";
import {
  builderBootstrapArgs,
  builderCreateArgs,
  builderRemoveArgs,
  type CreatedDriver,
  createdDriver,
} from "./builder-args.js";
import { builderEnvOpts } from "./builder-env-opts.js";
import { builderTlsConfig, buildRegistryHosts } from "./buildkitd-config.js";
import type { CleanupScope } from "./cleanup.js";
import { DockerCommandFailure, type DockerCommandOptions, type DockerRunner } from "./runner.js";

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
    );
  }
  return name;
}

interface BuilderContext {
  /** The run's environment: its proxies and HARNESS_CA_PATH become driver options. */
  env: NodeJS.ProcessEnv;
  runner: DockerRunner;
  scope: CleanupScope;
  /** The run's temporary folder (removed when the run ends): the builder's buildkitd.toml goes there. */
  workDir: string;
  command: DockerCommandOptions;
  info: (message: string) => void;
  warn: (message: string) => void;
}

/** One set of driver options to create the builder with, and the setting it comes from. */
interface DriverOptAttempt {
  setting: "PLUGIN_BUILDER_DRIVER_OPTS_NEW" | "PLUGIN_BUILDER_DRIVER_OPTS";
  driverOpts: readonly string[];
}

/**
 * The driver option sets to try, in order. As in the plugin (drone-buildx docker.go, `Exec`): with
 * PLUGIN_BUILDER_DRIVER_OPTS_NEW, a builder made with it first; when its create or its bootstrap fails,
 * one made with PLUGIN_BUILDER_DRIVER_OPTS (also when that is empty: buildx's defaults). Pure.
 */
export function driverOptAttempts(
  settings: Pick<Settings, "builderDriverOpts" | "builderDriverOptsNew">,
): DriverOptAttempt[] {
  const fallback: DriverOptAttempt = {
    setting: "PLUGIN_BUILDER_DRIVER_OPTS",
    driverOpts: settings.builderDriverOpts,
  };
  if (settings.builderDriverOptsNew.length === 0) return [fallback];
  return [{ setting: "PLUGIN_BUILDER_DRIVER_OPTS_NEW", driverOpts: settings.builderDriverOptsNew }, fallback];
}

/**
 * The `--builder` for the build: undefined for the current builder, the user's `PLUGIN_BUILDER_NAME` with
 * the docker driver, or a builder created now (its removal registered with the scope first, so that a
 * failed bootstrap removes it too). A builder that does not start with PLUGIN_BUILDER_DRIVER_OPTS_NEW is
 * removed at once and made again with PLUGIN_BUILDER_DRIVER_OPTS (the plugin leaves the failed one behind,
 * and then cannot make the second under a name the user gave, which buildx refuses to reuse).
 */
export async function prepareBuilder(
  settings: Settings,
  context: BuilderContext,
): Promise<string | undefined> {
  const driver = createdDriver(settings);
  if (!driver) return settings.builderName?.trim() || undefined;
  const name = builderName(settings);
  const configFile = await builderConfigFile(settings, driver, context);
  // Every attempt's argv first: bad input (a remote driver without endpoint) fails before anything exists.
  const attempts = driverOptAttempts(settings).map((attempt) => {
    const fromEnv = builderEnvOpts(driver, context.env, attempt.driverOpts);
    const args = builderCreateArgs(settings, {
      name,
      driverOpts: attempt.driverOpts,
      envOpts: fromEnv.opts,
      configFile,
    });
    return { ...attempt, fromEnv, args };
  });
  const caPath = context.env.HARNESS_CA_PATH;
  if (caPath && driver === "docker-container" && !existsSync(caPath)) {
    // As the plugin warns; the option is passed all the same.
    context.warn(`HARNESS_CA_PATH is set to ${caPath}, but there is no such file`);
  }
  const said = new Set<string>();
  const sayOnce = (line: string, say: (line: string) => void) => {
    if (!said.has(line)) say(line);
    said.add(line);
  };

  for (const [index, attempt] of attempts.entries()) {
    for (const warning of attempt.fromEnv.warnings) sayOnce(warning, context.warn);
    for (const note of attempt.fromEnv.notes) sayOnce(note, context.info);
    const next = attempts[index + 1];
    const opts =
      attempt.setting === "PLUGIN_BUILDER_DRIVER_OPTS_NEW" ? ", PLUGIN_BUILDER_DRIVER_OPTS_NEW" : "";
    context.info(`creating builder ${name} (driver ${driver}${opts})`);
    try {
      await startBuilder(name, attempt.args, context, { removeOnFailure: next !== undefined });
      return name;
    } catch (error) {
      const stopped = context.command.signal?.aborted === true;
      if (!next || stopped || !(error instanceof DockerCommandFailure)) throw error;
      const fallback =
        next.driverOpts.length > 0 ? next.setting : `${next.setting} (not set: buildx's default options)`;
      context.warn(
        `the builder did not start with ${attempt.setting}: ${error.message}; creating it again with ${fallback}, as the plugin does`,
      );
    }
  }
  throw new Error("prepareBuilder: no driver options to try");
}

/**
 * The buildkitd.toml to create the builder with: PLUGIN_BUILDER_CONFIG as it is, or a file in the run's
 * folder with the sections PLUGIN_REGISTRY_CA / PLUGIN_INSECURE ask for (after the user's content).
 */
async function builderConfigFile(
  settings: Settings,
  driver: CreatedDriver,
  context: BuilderContext,
): Promise<string | undefined> {
  const own = settings.builderConfig;
  if (!settings.registryCa && !settings.insecure) return own;
  if (driver === "remote") {
    context.info(
      "PLUGIN_REGISTRY_CA and PLUGIN_INSECURE do not reach a remote builder: its BuildKit reads its own buildkitd.toml, where the registry must be configured",
    );
    return own;
  }
  const userConfig = own ? await readFile(own, "utf8") : undefined;
  const tls = builderTlsConfig(settings, userConfig, { cwd: context.command.cwd ?? process.cwd() });
  for (const host of tls.theirs) {
    context.warn(
      `PLUGIN_BUILDER_CONFIG configures the registry ${host}: its section is used as it is, and PLUGIN_REGISTRY_CA / PLUGIN_INSECURE are not added for ${host}`,
    );
  }
  if (tls.text === undefined) {
    if (buildRegistryHosts(settings).length === 0) {
      context.info(
        "PLUGIN_REGISTRY_CA and PLUGIN_INSECURE apply to the registries of PLUGIN_REPO, PLUGIN_REGISTRY and PLUGIN_BASE_IMAGE_REGISTRY, and none of them names one other than Docker Hub: not used",
      );
    }
    return own;
  }
  const file = join(context.workDir, "buildkitd.toml");
  await writeFile(file, tls.text);
  context.info(
    `the builder's buildkitd.toml${own ? " (PLUGIN_BUILDER_CONFIG's, extended)" : ""}: ${tls.added.map((host) => `[registry."${host}"]`).join(", ")} for PLUGIN_REGISTRY_CA / PLUGIN_INSECURE`,
  );
  return file;
}

/**
 * Creates and bootstraps the builder. Its removal is registered with the scope as soon as it exists;
 * `removeOnFailure` removes it at once when it does not start (another attempt follows under its name).
 */
async function startBuilder(
  name: string,
  createArgs: readonly string[],
  context: BuilderContext,
  options: { removeOnFailure: boolean },
): Promise<void> {
  await context.runner.capture(createArgs, { ...context.command, what: "docker buildx create" });
  let removed = false;
  const remove = async () => {
    if (removed) return;
    removed = true;
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
  };
  context.scope.add(remove);
  try {
    await context.runner.stream(builderBootstrapArgs(name), {
      ...context.command,
      what: `bootstrapping builder ${name} (docker buildx inspect --bootstrap)`,
    });
  } catch (error) {
    if (options.removeOnFailure && context.command.signal?.aborted !== true) await remove();
    throw error;
  }
}
