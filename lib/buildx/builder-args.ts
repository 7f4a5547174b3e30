/**
 * Argument lists for a builder this run creates (`PLUGIN_BUILDER_DRIVER` other than `docker`): create,
 * bootstrap, remove. Pure functions. The plugin does the same steps
 * (https://github.com/drone-plugins/drone-buildx/blob/master/buildx.go) but also runs `--use`, which would
 * change the user's current builder: here the build names its builder with `--builder` instead.
 * buildx: https://docs.docker.com/reference/cli/docker/buildx/create/
 */
import type { Settings } from "../config/settings.js";
import { UsageError } from "../errors.js";

/** The drivers buildx 0.13 can create a builder with (`docker` is the engine's own, never created). */
const CREATED_DRIVERS = ["docker-container", "remote", "kubernetes"] as const;
export type CreatedDriver = (typeof CREATED_DRIVERS)[number];

/** The driver a builder is created with, or undefined for the engine's own `docker` driver. */
export function createdDriver(settings: Pick<Settings, "builderDriver">): CreatedDriver | undefined {
  const driver = settings.builderDriver?.trim() ?? "";
  if (driver === "" || driver === "docker") return undefined;
  if ((CREATED_DRIVERS as readonly string[]).includes(driver)) return driver as CreatedDriver;
  throw new UsageError(
    `PLUGIN_BUILDER_DRIVER="${driver}" is not a buildx driver: use docker (the default), docker-container, remote or kubernetes`,
  );
}

/** What one `docker buildx create` of this run's builder is made of, beside the driver. */
interface BuilderCreateOptions {
  name: string;
  /** The user's driver options for this attempt: PLUGIN_BUILDER_DRIVER_OPTS_NEW or PLUGIN_BUILDER_DRIVER_OPTS. */
  driverOpts: readonly string[];
  /** Driver options from the run's environment (builder-env-opts.ts), after the user's. */
  envOpts?: readonly string[];
  /** The buildkitd.toml to start BuildKit with. */
  configFile?: string;
}

/** `docker buildx create ...` for this run's builder. */
export function builderCreateArgs(
  settings: Pick<Settings, "builderDriver" | "builderRemoteConn">,
  options: BuilderCreateOptions,
): string[] {
  const driver = createdDriver(settings);
  if (!driver) throw new Error("builderCreateArgs: the docker driver has no builder to create");
  const args = ["buildx", "create", "--name", options.name, "--driver", driver];
  for (const option of [...options.driverOpts, ...(options.envOpts ?? [])]) args.push("--driver-opt", option);
  if (options.configFile) args.push("--buildkitd-config", options.configFile);
  if (driver === "remote") {
    const endpoint = settings.builderRemoteConn?.trim() ?? "";
    if (endpoint === "") {
      throw new UsageError(
        "PLUGIN_BUILDER_DRIVER=remote needs PLUGIN_BUILDER_REMOTE_CONN: the BuildKit endpoint, e.g. tcp://buildkitd:1234",
      );
    }
    args.push(endpoint);
  }
  return args;
}

/** Starts the builder and waits until it answers (a missing image or an unreachable endpoint fails here). */
export function builderBootstrapArgs(name: string): string[] {
  return ["buildx", "inspect", "--bootstrap", "--builder", name];
}

/** Removes the builder and its state (container, volume) again. */
export function builderRemoveArgs(name: string): string[] {
  return ["buildx", "rm", "--force", name];
}
