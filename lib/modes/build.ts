/**
 * Build with buildx: push every tag (the default), or with dry run keep the image in a tarball, load it
 * into the engine, or leave it in the build cache only. Orchestration only: the argv comes from
 * lib/buildx (pure), commands run through the buildx runner, the engine is asked through lib/daemon,
 * logins come from lib/auth.
 *
 * Order of a run: every input checked, the engine's image store included for a tarball (exit 2, nothing
 * changed) → logins in a temporary DOCKER_CONFIG → a builder when the driver needs one → the build (on the
 * classic store: `--load`, then the tarball saved from the engine) → the tarball moved into place →
 * results written. Undo actions (builder, temporary files) run however the run ends.
 */
import { mkdtemp, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { CredentialSource } from "../auth/credential.js";
import { ecrRegistryOf } from "../auth/ecr-registry.js";
import { type BuildOutput, buildxBuildArgs } from "../buildx/build-args.js";
import { createdDriver } from "../buildx/builder-args.js";
import { type CleanupScope, withCleanup } from "../buildx/cleanup.js";
import { isExporterUnsupported, saveWritesOciLayout } from "../buildx/exporter-support.js";
import { manifestDigest, readBuildxMetadata } from "../buildx/metadata.js";
import { progressMode } from "../buildx/progress.js";
import {
  DockerCommandFailure,
  type DockerCommandOptions,
  type DockerRunner,
  dockerRunner,
} from "../buildx/runner.js";
import type { ResolvedSettings, Settings } from "../config/settings.js";
import { StepFailure, UsageError } from "../errors.js";
import type { Logger } from "../log.js";
import { publishResult } from "../outputs/publish.js";
import type { StepResult } from "../outputs/result.js";
import { replaceFile } from "../outputs/write-output.js";
import { type BuildRunPlan, isRemoteContext, planBuild } from "./build-plan.js";

// The credentials (AWS SDK), the engine client (dockerode) and the archive reader are loaded only by the
// runs that use them: a cached build must not pay a second of start-up for them.
const auth = () =>
  Promise.all([
    import("../auth/resolve.js"),
    import("../auth/temp-docker-config.js"),
    import("../auth/prepare-push.js"),
  ]).then(([resolveModule, temp, prepare]) => ({ ...resolveModule, ...temp, ...prepare }));
const daemon = () =>
  Promise.all([import("../daemon/engine.js"), import("../daemon/save.js"), import("../daemon/load.js")]).then(
    ([engine, save, load]) => ({ ...engine, ...save, ...load }),
  );

export interface BuildDeps {
  logger: Logger;
  env: NodeJS.ProcessEnv;
  /** `build` or plugin mode (see planBuild). */
  command: "plugin" | "build";
  /** Relative paths (Dockerfile, context, secrets) are read from here, as buildx reads them. */
  cwd?: string;
  runner?: DockerRunner;
  credentials?: CredentialSource;
  /** Where `--json` goes. Default: stdout. */
  writeStdout?: (text: string) => void;
  /** Whether a person watches stderr (buildx's tty progress). Default: process.stderr.isTTY. */
  stderrIsTty?: boolean;
  now?: () => Date;
  /** Install SIGINT/SIGTERM handlers that clean up (default true). */
  handleSignals?: boolean;
}

async function kindOf(path: string): Promise<"file" | "folder" | undefined> {
  const info = await stat(path).catch(() => undefined);
  if (!info) return undefined;
  return info.isDirectory() ? "folder" : "file";
}

/**
 * The files the build reads exist: checked before anything runs, so a typo is exit 2, not a buildx error.
 * With no PLUGIN_DOCKERFILE, a context's own Dockerfile is used when the working folder has none (as
 * `docker build CONTEXT` and kaniko do): the plan's Dockerfile is changed then, and the note says so.
 */
async function checkBuildInputs(
  plan: BuildRunPlan,
  resolved: ResolvedSettings,
  cwd: string,
  logger: Logger,
): Promise<void> {
  const { settings } = plan;
  if (!isRemoteContext(plan.context)) {
    const context = resolve(cwd, plan.context);
    if ((await kindOf(context)) !== "folder") {
      throw new UsageError(
        `PLUGIN_CONTEXT: the build context ${context} is not a folder: set PLUGIN_CONTEXT to the folder to build`,
        ["PLUGIN_CONTEXT"],
      );
    }
    const dockerfileSet =
      resolved.sources.dockerfile !== undefined && resolved.sources.dockerfile.kind !== "default";
    if (!dockerfileSet && (await kindOf(resolve(cwd, plan.dockerfile))) !== "file") {
      const inContext = join(plan.context, "Dockerfile");
      if ((await kindOf(resolve(cwd, inContext))) === "file") {
        logger.info(
          `no ${plan.dockerfile} in ${cwd}: building with the context's ${inContext} (set PLUGIN_DOCKERFILE to choose another)`,
        );
        plan.dockerfile = inContext;
      }
    }
    const dockerfile = resolve(cwd, plan.dockerfile);
    if ((await kindOf(dockerfile)) !== "file") {
      throw new UsageError(
        `PLUGIN_DOCKERFILE: no Dockerfile at ${dockerfile} (a relative PLUGIN_DOCKERFILE is read from the working folder ${cwd}, not from the context): set PLUGIN_DOCKERFILE to the Dockerfile's path`,
        ["PLUGIN_DOCKERFILE", "PLUGIN_CONTEXT"],
      );
    }
  }
  for (const item of settings.secretsFromFile) {
    const path = resolve(cwd, item.slice(item.indexOf("=") + 1).trim());
    if ((await kindOf(path)) !== "file") {
      throw new UsageError(`PLUGIN_SECRETS_FROM_FILE: "${item}": no file at ${path}`, [
        "PLUGIN_SECRETS_FROM_FILE",
      ]);
    }
  }
  if (settings.builderConfig && (await kindOf(resolve(cwd, settings.builderConfig))) !== "file") {
    throw new UsageError(
      `PLUGIN_BUILDER_CONFIG: no buildkitd config file at ${resolve(cwd, settings.builderConfig)}`,
      ["PLUGIN_BUILDER_CONFIG"],
    );
  }
}

/** Whether the push needs the registry prepared (ECR repository, policies) or those settings checked. */
function needsPreparePush(settings: Settings): boolean {
  return (
    ecrRegistryOf(settings) !== undefined ||
    settings.createRepository ||
    Boolean(settings.lifecyclePolicy || settings.repositoryPolicy)
  );
}

/** Whether the build needs logins written for it; without any, buildx uses the user's own docker config. */
function needsLogins(settings: Settings): boolean {
  if (settings.password || settings.baseImagePassword || settings.config) return true;
  return ecrRegistryOf(settings) !== undefined;
}

/** The registry the artifact file names: PLUGIN_REGISTRY when given, else the host in PLUGIN_REPO. */
function artifactRegistry(resolved: ResolvedSettings): string | undefined {
  const source = resolved.sources.registry;
  if (source && source.kind !== "default" && resolved.settings.registry) return resolved.settings.registry;
  const first = resolved.settings.repo?.split("/")[0];
  return first && /[.:]|^localhost$/.test(first) && resolved.settings.repo?.includes("/")
    ? first
    : resolved.settings.registry;
}

/** Where the classic store's fallback saves from: every name the image got, or its ID when it has none. */
function namesToSave(plan: BuildRunPlan, metadata: Record<string, unknown>): string[] {
  if (plan.imageRefs.length > 0) return plan.imageRefs;
  const id = metadata["containerimage.config.digest"] ?? metadata["containerimage.digest"];
  if (typeof id !== "string") throw new StepFailure("buildx reported no image ID for the loaded image");
  return [id];
}

/** The digest a registry would serve for the tarball: its one image's top descriptor. */
async function tarballDigest(path: string): Promise<string | undefined> {
  const { openArchive } = await import("../archive/open.js");
  const archive = await openArchive(path);
  await archive.close();
  const digests = new Set(archive.images.map((image) => image.descriptor.digest));
  return digests.size === 1 ? [...digests][0] : undefined;
}

/** An argument as a shell would need it, for the command line shown in the log. */
function shellQuote(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, "'\\''")}'`;
}

interface BuildState {
  plan: BuildRunPlan;
  settings: Settings;
  scope: CleanupScope;
  command: DockerCommandOptions;
  runner: DockerRunner;
  logger: Logger;
  workDir: string;
  builder?: string;
  created: string;
  progress: ReturnType<typeof progressMode>;
}

async function runBuildx(state: BuildState, output: BuildOutput, metadataFile: string): Promise<void> {
  const args = buildxBuildArgs(state.settings, {
    output,
    dockerfile: state.plan.dockerfile,
    context: state.plan.context,
    imageRefs: state.plan.imageRefs,
    metadataFile,
    progress: state.progress,
    builder: state.builder,
    created: state.created,
    sshKeyFile: state.settings.sshAgentKey ? join(state.workDir, "ssh-key") : undefined,
  });
  state.logger.info(`+ docker ${args.map(shellQuote).join(" ")}`);
  // buildx's own live view needs the terminal itself; `auto` means a person watches.
  await state.runner.stream(args, {
    ...state.command,
    what: "docker buildx build",
    terminal: state.progress === "auto",
  });
}

/** Runs the build mode and writes its results; resolves to the result (also printed with --json). */
export async function runBuild(resolved: ResolvedSettings, deps: BuildDeps): Promise<StepResult> {
  const { logger, env } = deps;
  const cwd = deps.cwd ?? process.cwd();
  const plan = planBuild(resolved, { command: deps.command });
  const settings = plan.settings;
  // A tarball on the engine's own builder depends on the engine's image store: asked now (while the
  // inputs are checked), so that what the classic store cannot write is refused before anything runs.
  const asksStore = plan.output.kind === "tar" && !createdDriver(settings) && !settings.builderName;
  const store = asksStore
    ? import("../buildx/engine-store.js").then(({ engineStore }) => engineStore(env))
    : undefined;
  store?.catch(() => {});
  await checkBuildInputs(plan, resolved, cwd, logger);
  const preparesPush = plan.output.kind === "push" && needsPreparePush(settings);
  if (preparesPush) await (await auth()).checkPreparePush(settings, { logger, cwd });
  let classicStore = false;
  if (store && plan.output.kind === "tar") {
    const facts = await store;
    classicStore = facts.store === "classic";
    if (classicStore) checkClassicFallback(settings, plan.output.format, facts.version);
  }
  for (const warning of plan.warnings) logger.warn(warning);
  for (const note of plan.notes) logger.info(note);

  const runner = deps.runner ?? dockerRunner;
  const result = await withCleanup(
    async (scope) => {
      const workDir = await mkdtemp(join(tmpdir(), "buildx-step-build-"));
      scope.add(() => rm(workDir, { recursive: true, force: true }));
      const childEnv: NodeJS.ProcessEnv = { ...env };
      if (needsLogins(settings)) {
        const { credentialSourceFor, writeTempDockerConfig } = await auth();
        const credentials = deps.credentials ?? credentialSourceFor(settings, env, logger, { cwd });
        const config = await writeTempDockerConfig({ settings, source: credentials, env, logger, cwd });
        scope.add(() => config.remove());
        Object.assign(childEnv, config.env);
      }
      if (settings.sshAgentKey) {
        logger.addSecret(settings.sshAgentKey);
        await writeFile(join(workDir, "ssh-key"), settings.sshAgentKey, { mode: 0o600 });
      }
      const command: DockerCommandOptions = { env: childEnv, cwd, signal: scope.signal, mask: logger.mask };
      const state: BuildState = {
        plan,
        settings,
        scope,
        command,
        runner,
        logger,
        workDir,
        created: (deps.now?.() ?? new Date()).toISOString().replace(/\.\d{3}Z$/, "Z"),
        progress: progressMode(env, deps.stderrIsTty ?? Boolean(process.stderr.isTTY)),
      };
      // The engine's own builder needs nothing (but a builder the user named); only a created one needs
      // the lifecycle code.
      if (createdDriver(settings)) {
        const { prepareBuilder } = await import("../buildx/builder.js");
        state.builder = await prepareBuilder(settings, {
          runner,
          scope,
          command,
          info: (m) => logger.info(m),
          warn: (m) => logger.warn(m),
        });
      } else {
        state.builder = settings.builderName?.trim() || undefined;
      }
      if (preparesPush) await (await auth()).preparePush(settings, { logger, cwd });
      return build(state, resolved, env, classicStore);
    },
    {
      handleSignals: deps.handleSignals,
      onSignal: (signal) => logger.warn(`${signal}: stopping the build and cleaning up`),
      onCleanupError: (error) => logger.warn(`cleanup: ${(error as Error).message}`),
    },
  );

  await publishResult(result, settings, deps.writeStdout);
  return result;
}

async function build(
  state: BuildState,
  resolved: ResolvedSettings,
  env: NodeJS.ProcessEnv,
  classicStore: boolean,
): Promise<StepResult> {
  const { plan, settings, logger } = state;
  const metadataFile = join(state.workDir, "metadata.json");
  const result: StepResult = {
    mode: plan.mode,
    image: settings.repo?.trim() || undefined,
    tags: plan.imageRefs.length > 0 ? plan.tags : [],
    registry: artifactRegistry(resolved),
  };

  const out = plan.output;
  if (out.kind !== "tar") {
    await runBuildx(state, out, metadataFile);
  } else {
    const { prepareTarball } = await import("../buildx/tar-output.js");
    const tarball = await prepareTarball(out.path, state.command.cwd ?? process.cwd());
    state.scope.add(() => tarball.discard());
    let classic = classicStore;
    if (!classic) {
      try {
        await runBuildx(state, { kind: "tar", format: out.format, dest: tarball.temp }, metadataFile);
      } catch (error) {
        // An engine whose /info did not tell: buildx's own refusal is the other sign of the classic store.
        const refused = error instanceof DockerCommandFailure && isExporterUnsupported(error.outputTail);
        if (state.builder || !refused) throw error;
        logger.info("buildx cannot write a tarball with this engine's image store");
        classic = true;
      }
    }
    if (classic) {
      logger.info(
        "the engine uses the classic image store: loading the image into the engine, then saving the tarball from it",
      );
      if (out.format === "oci") {
        logger.info(
          "the engine's save writes docker's manifest.json beside the OCI layout (index.json, blobs)",
        );
      }
      await runBuildx(state, { kind: "load" }, metadataFile);
      const { metadata } = await readBuildxMetadata(metadataFile);
      const names = namesToSave(plan, metadata);
      const { connectEngine, saveImages } = await daemon();
      await saveImages(connectEngine(env), names, tarball.temp);
      // The engine was only the way to the tarball: unless the image was to be loaded, take it out again.
      if (!out.alsoLoad) await untag(state, names);
    }
    await tarball.commit();
    result.tarPath = tarball.dest;
    logger.info(`wrote ${tarball.dest}`);
    if (classic) {
      result.digest = await tarballDigest(tarball.dest);
    } else if (out.alsoLoad) {
      const { connectEngine, loadTarball } = await daemon();
      await loadTarball(connectEngine(env), tarball.dest, () => {});
      logger.info(`loaded ${plan.imageRefs.join(", ") || "the image"} into the engine`);
    }
  }

  if (out.kind === "cacheOnly") {
    const where = state.builder ? `the cache of the builder ${state.builder}` : "the build cache";
    logger.info(
      `dry run: the image was built, not pushed, saved or loaded: the result is only in ${where}, not in the engine (set PLUGIN_BUILDX_LOAD=true to load it into the engine, or PLUGIN_TAR_PATH to write it to a tarball)`,
    );
    return result;
  }
  const { text, metadata } = await readBuildxMetadata(metadataFile);
  result.digest ??= manifestDigest(metadata);
  if (settings.metadataFile) await replaceFile(settings.metadataFile, text);
  if (out.kind === "push")
    logger.info(`pushed ${plan.imageRefs.join(", ")} at ${result.digest ?? "(no digest reported)"}`);
  else if (out.kind === "load")
    logger.info(
      `loaded ${plan.imageRefs.join(", ") || "the image (unnamed: set PLUGIN_REPO to name it)"} into the engine${result.digest ? ` at ${result.digest}` : ""}`,
    );
  return result;
}

/** Removes the names the classic-store fallback loaded (a failure is only worth a warning). */
async function untag(state: BuildState, names: string[]): Promise<void> {
  try {
    await state.runner.capture(["image", "rm", ...names], { ...state.command, what: "docker image rm" });
    state.logger.info(`removed ${names.join(", ")} from the engine again (the tarball has the image)`);
  } catch (error) {
    state.logger.warn(`the image stays loaded in the engine: ${(error as Error).message}`);
  }
}

/** With the classic store the tarball comes from `docker save`: refuse what it cannot write, before building. */
function checkClassicFallback(settings: Settings, format: "docker" | "oci", engineVersion: string): void {
  if (settings.platforms.length > 1) {
    throw new UsageError(
      `PLUGIN_PLATFORM=${settings.platforms.join(",")}: this engine uses the classic image store, which holds one platform per image, so it cannot write a multi-platform tarball. Turn on the containerd image store, or set PLUGIN_BUILDER_DRIVER=docker-container`,
      ["PLUGIN_PLATFORM", "PLUGIN_BUILDER_DRIVER"],
    );
  }
  if (format === "oci" && !saveWritesOciLayout(engineVersion)) {
    throw new UsageError(
      `PLUGIN_BUILDX_OUTPUT_FORMAT=oci: this engine (${engineVersion}) uses the classic image store and saves docker archives only: use PLUGIN_BUILDX_OUTPUT_FORMAT=docker, or an engine 25 or later`,
      ["PLUGIN_BUILDX_OUTPUT_FORMAT"],
    );
  }
}
