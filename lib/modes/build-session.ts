/**
 * What `docker buildx build` and `docker buildx bake` runs share around their one command: a cleanup scope
 * (undo actions run however the run ends, also on SIGINT/SIGTERM), the run's temporary folder, logins in a
 * temporary DOCKER_CONFIG, the builder (one created for the run, one the user named, or the engine's own),
 * and the registry prepared for the push (ECR repository and policies) just before the command runs.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cloudLoginOf } from "../auth/cloud-login.js";
import { ecrRegistryOf } from "../auth/ecr-registry.js";
import { createdDriver } from "../buildx/builder-args.js";
import { type CleanupScope, withCleanup } from "../buildx/cleanup.js";
import { type DockerCommandOptions, type DockerRunner, dockerRunner } from "../buildx/runner.js";
import type { ResolvedSettings, Settings } from "../config/settings.js";
import type { Logger } from "../log.js";
import { registryHostOf } from "../reference/host.js";

// The credentials (AWS SDK) are loaded only by the runs that use them: a cached build must not pay a
// second of start-up for them.
export const auth = () =>
  Promise.all([
    import("../auth/resolve.js"),
    import("../auth/temp-docker-config.js"),
    import("../auth/prepare-push.js"),
  ]).then(([resolveModule, temp, prepare]) => ({ ...resolveModule, ...temp, ...prepare }));

/** Whether the push needs the registry prepared (ECR repository, policies) or those settings checked. */
export function needsPreparePush(settings: Settings): boolean {
  return (
    ecrRegistryOf(settings) !== undefined ||
    settings.createRepository ||
    Boolean(settings.lifecyclePolicy || settings.repositoryPolicy)
  );
}

/** Whether the build needs logins written for it; without any, buildx uses the user's own docker config. */
function needsLogins(settings: Settings): boolean {
  if (settings.password || settings.baseImagePassword || settings.config) return true;
  if (ecrRegistryOf(settings) !== undefined) return true;
  // A GCR/GAR login from the settings (or, for ACR, settings worth a warning when the login is asked for).
  const cloud = cloudLoginOf(settings);
  return cloud.login !== undefined || cloud.warnings.length > 0;
}

/** The registry the artifact file names: PLUGIN_REGISTRY when given, else the host in PLUGIN_REPO. */
export function artifactRegistry(resolved: ResolvedSettings): string | undefined {
  const source = resolved.sources.registry;
  if (source && source.kind !== "default" && resolved.settings.registry) return resolved.settings.registry;
  return registryHostOf(resolved.settings.repo) ?? resolved.settings.registry;
}

interface SessionDeps {
  logger: Logger;
  env: NodeJS.ProcessEnv;
  /** Relative paths are read from here, as buildx reads them. */
  cwd: string;
}

interface BuildSession {
  scope: CleanupScope;
  /** The run's temporary folder, removed when the run ends. */
  workDir: string;
  /** For every docker command of the run: its environment (logins), folder, stop signal, output mask. */
  command: DockerCommandOptions;
  runner: DockerRunner;
  /** The `--builder` for the command; undefined for the current builder. */
  builder?: string;
}

/** Sets the session up, runs `body` in it, and undoes what the session made however `body` ends. */
export async function withBuildSession<T>(
  settings: Settings,
  deps: SessionDeps,
  options: { preparesPush: boolean },
  body: (session: BuildSession) => Promise<T>,
): Promise<T> {
  const { logger, env, cwd } = deps;
  const runner = dockerRunner;
  return withCleanup(
    async (scope) => {
      const workDir = await mkdtemp(join(tmpdir(), "buildx-step-build-"));
      scope.add(() => rm(workDir, { recursive: true, force: true }));
      const childEnv: NodeJS.ProcessEnv = { ...env };
      if (needsLogins(settings)) {
        const { credentialSourceFor, writeTempDockerConfig } = await auth();
        const credentials = credentialSourceFor(settings, env, logger, { cwd });
        const config = await writeTempDockerConfig({ settings, source: credentials, env, logger, cwd });
        scope.add(() => config.remove());
        Object.assign(childEnv, config.env);
      }
      const command: DockerCommandOptions = { env: childEnv, cwd, signal: scope.signal, mask: logger.mask };
      const session: BuildSession = { scope, workDir, command, runner };
      // The engine's own builder needs nothing (but a builder the user named); only a created one needs
      // the lifecycle code.
      if (createdDriver(settings)) {
        const { prepareBuilder } = await import("../buildx/builder.js");
        session.builder = await prepareBuilder(settings, {
          env,
          runner,
          scope,
          workDir,
          command,
          info: (m) => logger.info(m),
          warn: (m) => logger.warn(m),
        });
      } else {
        session.builder = settings.builderName?.trim() || undefined;
        if (settings.registryCa || settings.insecure) {
          const { adviseOnRegistryTls } = await import("../buildx/engine-registry-advice.js");
          await adviseOnRegistryTls(settings, {
            env,
            info: (m) => logger.info(m),
            warn: (m) => logger.warn(m),
          });
        }
      }
      if (options.preparesPush) await (await auth()).preparePush(settings, { logger, cwd });
      return body(session);
    },
    {
      onSignal: (signal) => logger.warn(`${signal}: stopping the build and cleaning up`),
      onCleanupError: (error) => logger.warn(`cleanup: ${(error as Error).message}`),
    },
  );
}
