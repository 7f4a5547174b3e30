/**
 * Build with buildx: push every tag (the default), or with dry run keep the image in a tarball, load it
 * into the engine, or leave it in the build cache only. Orchestration only: the argv comes from
 * lib/buildx (pure), commands run through the buildx runner, the engine is asked through lib/daemon,
 * logins come from lib/auth.
 *
 * Order of a run: every input checked, the engine's image store included for a tarball (exit 2, nothing
 * changed) → logins in a temporary DOCKER_CONFIG and a builder when the driver needs one (build-session.ts,
 * shared with bake) → the build (on the classic store: `--load`, then the tarball saved from the engine) →
 * the tarball moved into place → results written. Undo actions (builder, temporary files) run however the run ends.
 */
import { stat, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { type BuildOutput, buildxBuildArgs } from "../buildx/build-args.js";
import { createdDriver } from "../buildx/builder-args.js";
import type { CleanupScope } from "../buildx/cleanup.js";
import { type EnvBuildArgs, envBuildArgs } from "../buildx/env-build-args.js";
import { isExporterUnsupported, saveWritesOciLayout } from "../buildx/exporter-support.js";
import { manifestDigest, readBuildxMetadata } from "../buildx/metadata.js";
import { progressMode } from "../buildx/progress.js";
import { DockerCommandFailure, type DockerCommandOptions, type DockerRunner } from "../buildx/runner.js";
import { type TransientFailure, transientFailure } from "../buildx/transient-failure.js";
import type { ParsedSettings } from "../config/parsed.js";
import type { SettingNames } from "../config/provenance.js";
import type { ResolvedSettings, Settings, ValidatedSettings } from "../config/settings.js";
import type { EngineFacts } from "../engine/info.js";
import { StepFailure, UsageError } from "../errors.js";
import type { Logger } from "../log.js";
import { publishResult } from "../outputs/publish.js";
import type { StepResult } from "../outputs/result.js";
import { replaceFile } from "../outputs/write-output.js";
import type { RepositoryName } from "../reference/name.js";
import type { SigningPlan } from "../signing/prepare.js";
import { type BuildRunPlan, isRemoteContext, planBuild } from "./build-plan.js";
import { artifactRegistry, auth, needsPreparePush, withBuildSession } from "./build-session.js";

// The engine client (dockerode) and the archive reader are loaded only by the runs that use them: a
// cached build must not pay for them.
const daemon = () =>
  Promise.all([import("../engine/engine.js"), import("../daemon/save.js"), import("../daemon/load.js")]).then(
    ([engine, save, load]) => ({ ...engine, ...save, ...load }),
  );

interface BuildDeps {
  logger: Logger;
  env: NodeJS.ProcessEnv;
  /** `build` or plugin mode (see planBuild). */
  command: "plugin" | "build";
  /** How the signing messages name settings (the flag in CLI mode). Default: their PLUGIN_* variables. */
  names?: SettingNames;
}

async function kindOf(path: string): Promise<"file" | "folder" | undefined> {
  const info = await stat(path).catch(() => undefined);
  if (!info) return undefined;
  return info.isDirectory() ? "folder" : "file";
}

/**
 * The files the build reads exist: checked before anything runs, so a typo is exit 2, not a buildx error
 * (validation checked the files of any mode already: PLUGIN_BUILDER_CONFIG, PLUGIN_REGISTRY_CA, ...).
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
      );
    }
  }
  for (const item of settings.secretsFromFile) {
    const path = resolve(cwd, item.slice(item.indexOf("=") + 1).trim());
    if ((await kindOf(path)) !== "file") {
      throw new UsageError(`PLUGIN_SECRETS_FROM_FILE: "${item}": no file at ${path}`);
    }
  }
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
  /** Proxies and PLUGIN_BUILD_ARGS_FROM_ENV: names on the command line, values in buildx's environment. */
  envArgs: EnvBuildArgs;
  /** How warnings name settings (the flag in CLI mode). */
  names?: SettingNames;
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
    envBuildArgs: state.envArgs.names,
  });
  for (let attempt = 1; ; attempt++) {
    try {
      // buildx's own live view needs the terminal itself; `auto` means a person watches.
      await state.runner.stream(args, {
        ...state.command,
        // Only the build reads them: the builder's and the engine's commands keep the run's own environment.
        env: { ...state.command.env, ...state.envArgs.env },
        what: "docker buildx build",
        terminal: state.progress === "auto",
        // The command line once: a rerun is the same command.
        log: attempt === 1 ? (line) => state.logger.info(line) : undefined,
      });
      return;
    } catch (error) {
      const why = error instanceof DockerCommandFailure ? transientFailure(error.outputTail) : undefined;
      if (!why || attempt >= BUILD_ATTEMPTS) throw error;
      state.logger.warn(`${RERUN_REASONS[why]}; building again (the build is cached)`);
      await sleep(attempt * 1_000, undefined, { signal: state.scope.signal });
    }
  }
}

/** Attempts of a build that failed for a reason another run gets past (lib/buildx/transient-failure.ts). */
const BUILD_ATTEMPTS = 3;

const RERUN_REASONS: Record<TransientFailure, string> = {
  naming:
    "the engine refused to name the image: another build named it at the same moment (nothing was pushed)",
  registry: "the registry answered the engine's push with a server error, which the engine does not retry",
};

/** Runs the build mode and writes its results; resolves to the result (also printed with --json). */
export async function runBuild(resolved: ValidatedSettings, deps: BuildDeps): Promise<StepResult> {
  const { logger, env } = deps;
  // Relative paths (Dockerfile, context, secrets) are read from here, as buildx reads them.
  const cwd = process.cwd();
  const plan = planBuild(resolved, { command: deps.command });
  const settings = plan.settings;
  // A tarball on the engine's own builder depends on the engine's image store: asked now (while the
  // inputs are checked), so that what the classic store cannot write is refused before anything runs.
  const asksStore = plan.output.kind === "tar" && !createdDriver(settings) && !settings.builderName;
  const store = asksStore
    ? Promise.all([import("../engine/engine.js"), import("../engine/info.js")]).then(
        ([{ connectEngine }, { engineFacts }]) => engineFacts(connectEngine(env)),
      )
    : undefined;
  store?.catch(() => {});
  await checkBuildInputs(plan, resolved, cwd, logger);
  const preparesPush = plan.output.kind === "push" && needsPreparePush(settings);
  if (preparesPush) await (await auth()).checkPreparePush(settings, { logger, cwd });
  // The signing key and its password (issue 15), when the build pushes: refused now, before the build.
  const signStep =
    settings.signKey && plan.output.kind === "push" ? await import("./sign-step.js") : undefined;
  const signing = await signStep?.planSigning(settings, logger, deps.names);
  for (const warning of plan.warnings) logger.warn(warning);
  for (const note of plan.notes) logger.info(note);

  // Pure, and before anything runs: proxy credentials are masked from the first line on.
  const envArgs = envBuildArgs(settings, env);
  for (const secret of envArgs.secrets) logger.addSecret(secret);
  for (const note of envArgs.notes) logger.info(note);

  const result = await withBuildSession(settings, { ...deps, cwd }, { preparesPush }, async (session) => {
    if (settings.sshAgentKey) {
      logger.addSecret(settings.sshAgentKey);
      await writeFile(join(session.workDir, "ssh-key"), settings.sshAgentKey, { mode: 0o600 });
    }
    const state: BuildState = {
      plan,
      settings,
      scope: session.scope,
      command: session.command,
      runner: session.runner,
      logger,
      workDir: session.workDir,
      builder: session.builder,
      created: new Date().toISOString().replace(/\.\d{3}Z$/, "Z"),
      progress: progressMode(env, Boolean(process.stderr.isTTY)),
      envArgs,
      names: deps.names,
    };
    return build(state, resolved, env, store);
  });

  const final =
    signStep && signing
      ? await signBuilt(signStep, signing, result, settings, resolved.parsed, deps, cwd)
      : result;
  await publishResult(final, settings);
  return final;
}

/**
 * buildx pushed: the digest it reports (the index's for a multi-platform build) is signed through the
 * registry API with the run's credentials for the registry.
 */
async function signBuilt(
  signStep: typeof import("./sign-step.js"),
  signing: SigningPlan,
  result: StepResult,
  settings: Settings,
  parsed: ParsedSettings,
  deps: BuildDeps,
  cwd: string,
): Promise<StepResult> {
  const { logger, env } = deps;
  // A build that pushes has PLUGIN_REPO (the plan refuses one without).
  const target = parsed.repository as RepositoryName;
  if (!result.digest) {
    throw new StepFailure(
      `${target.full} is published unsigned: buildx reported no digest for the push, so there is nothing to sign; sign ${target.full}:${result.tags[0] ?? "latest"} with cosign sign --key`,
    );
  }
  const { credentialSourceFor } = await auth();
  const credentials = credentialSourceFor(settings, env, logger, { cwd });
  const signed = await signStep.signPushedWithNewClient(signing, settings, {
    env,
    logger,
    credentials,
    target,
    digest: result.digest,
  });
  return signStep.withSigning(result, signed);
}

async function build(
  state: BuildState,
  resolved: ResolvedSettings,
  env: NodeJS.ProcessEnv,
  store: Promise<EngineFacts> | undefined,
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
    // The engine's answer is awaited only now, while the session and the temporary file were made
    // meanwhile (its round trip was the longest wait before buildx); still before anything is built.
    const facts = await store;
    let classic = facts?.store === "classic";
    if (facts?.store === "classic") checkClassicFallback(settings, out.format, facts.version);
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
  if (out.kind === "push") await checkPush(state, result, env);
  else if (out.kind === "load")
    logger.info(
      `loaded ${plan.imageRefs.join(", ") || "the image (unnamed: set PLUGIN_REPO to name it)"} into the engine${result.digest ? ` at ${result.digest}` : ""}`,
    );
  return result;
}

/**
 * A push reports the digest it pushed, never none, and says which of its tags another push has moved
 * since (pushed-tags.ts).
 */
async function checkPush(state: BuildState, result: StepResult, env: NodeJS.ProcessEnv): Promise<void> {
  const { plan, settings, logger } = state;
  const refs = plan.imageRefs.join(", ");
  if (!result.digest) {
    throw new StepFailure(
      `buildx pushed ${refs} but its metadata names no manifest digest for the image (no containerimage.descriptor): which image the tags serve is unknown`,
    );
  }
  const [{ checkPushedTags }, { credentialSourceFor }] = await Promise.all([
    import("./pushed-tags.js"),
    import("../auth/resolve.js"),
  ]);
  const credentials = credentialSourceFor(settings, env, logger, { cwd: state.command.cwd });
  const moved = await checkPushedTags(plan.imageRefs, result.digest, settings, {
    logger,
    env,
    credentials,
    names: state.names,
  });
  if (moved.length > 0) result.movedTags = moved;
  logger.info(`pushed ${refs} at ${result.digest}`);
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
    );
  }
  if (format === "oci" && !saveWritesOciLayout(engineVersion)) {
    throw new UsageError(
      `PLUGIN_BUILDX_OUTPUT_FORMAT=oci: this engine (${engineVersion}) uses the classic image store and saves docker archives only: use PLUGIN_BUILDX_OUTPUT_FORMAT=docker, or an engine 25 or later`,
    );
  }
}
