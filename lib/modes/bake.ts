/**
 * Bake mode (PLUGIN_BAKE_FILE): `docker buildx bake` builds the bake file's targets and pushes them, or in a
 * dry run loads them into the engine, as the plugin does. Orchestration only: the argv is lib/buildx's
 * (bake-args.ts), the session (logins, builder, cleanup) is build-session.ts, shared with the build mode.
 *
 * Results: bake's metadata is keyed by target. One target gives the run's digest (DRONE_OUTPUT `digest`,
 * the artifact file, `--json`), with the image names bake gave it; with several, `--json` lists each
 * target's digest under `targets` and no single digest is reported (the plugin, which reads a top-level
 * digest, reports none in bake mode at all).
 */
import { join } from "node:path";
import { buildxBakeArgs } from "../buildx/bake-args.js";
import { type BakeTarget, bakeTargets } from "../buildx/bake-metadata.js";
import { readBuildxMetadata } from "../buildx/metadata.js";
import { progressMode } from "../buildx/progress.js";
import type { ResolvedSettings } from "../config/settings.js";
import type { Logger } from "../log.js";
import { publishResult } from "../outputs/publish.js";
import type { StepResult } from "../outputs/result.js";
import { replaceFile } from "../outputs/write-output.js";
import { splitTag } from "../reference/name.js";
import { planBake } from "./bake-plan.js";
import { artifactRegistry, auth, needsPreparePush, withBuildSession } from "./build-session.js";

interface BakeDeps {
  logger: Logger;
  env: NodeJS.ProcessEnv;
}

/** The one target's image as the result names it: its repository and tags, when they share one repository. */
function namesOf(target: BakeTarget): { image?: string; tags: string[] } {
  const parts = target.images.map(splitTag);
  const repos = new Set(parts.map((part) => part.name));
  if (repos.size !== 1) return { tags: [] };
  return { image: [...repos][0], tags: parts.flatMap((part) => (part.tag ? [part.tag] : [])) };
}

export async function runBake(resolved: ResolvedSettings, deps: BakeDeps): Promise<StepResult> {
  const { logger, env } = deps;
  const cwd = process.cwd();
  const plan = planBake(resolved);
  const { settings } = plan;
  // ECR repository creation and policies follow PLUGIN_REPO, as in the plugin's ECR wrapper.
  const preparesPush = plan.push && Boolean(settings.repo?.trim()) && needsPreparePush(settings);
  if (preparesPush) await (await auth()).checkPreparePush(settings, { logger, cwd });
  for (const warning of plan.warnings) logger.warn(warning);
  for (const note of plan.notes) logger.info(note);

  const progress = progressMode(env, Boolean(process.stderr.isTTY));
  const result = await withBuildSession(settings, { ...deps, cwd }, { preparesPush }, async (session) => {
    const metadataFile = join(session.workDir, "metadata.json");
    const args = buildxBakeArgs(settings, { builder: session.builder, push: plan.push, metadataFile });
    await session.runner.stream(args, {
      ...session.command,
      what: "docker buildx bake",
      log: (line) => logger.info(line),
      // buildx's own live view needs the terminal itself; `auto` means a person watches.
      terminal: progress === "auto",
    });
    const { text, metadata } = await readBuildxMetadata(metadataFile);
    if (settings.metadataFile) await replaceFile(settings.metadataFile, text);
    return bakeResult(resolved, plan.mode, plan.push, bakeTargets(metadata), logger);
  });
  await publishResult(result, settings);
  return result;
}

function bakeResult(
  resolved: ResolvedSettings,
  mode: StepResult["mode"],
  push: boolean,
  targets: BakeTarget[],
  logger: Logger,
): StepResult {
  const done = push ? "pushed" : "loaded into the engine";
  for (const target of targets) {
    logger.info(
      `target ${target.name}: ${done} ${target.images.join(", ") || "(no image name)"} at ${target.digest ?? "(no digest reported)"}`,
    );
  }
  const result: StepResult = {
    mode,
    tags: [],
    targets: Object.fromEntries(targets.map((target) => [target.name, target.digest ?? null])),
  };
  const only = targets.length === 1 ? targets[0] : undefined;
  if (!only) {
    result.registry = artifactRegistry(resolved);
    if (targets.length > 1)
      logger.info(`${targets.length} targets: no single digest to report (see targets in --json)`);
    return result;
  }
  const names = namesOf(only);
  if (names.image) result.image = names.image;
  result.tags = names.tags;
  if (only.digest) result.digest = only.digest;
  // The artifact file's registry: PLUGIN_REGISTRY when given, else the host of the image bake named.
  result.registry = artifactRegistry({ ...resolved, settings: { ...resolved.settings, repo: names.image } });
  return result;
}
