/**
 * What a build run will do, decided from the settings alone before anything runs: push, a tarball, a
 * load or nothing but the cache; the image names; the Dockerfile and context buildx reads; and the
 * refusals that depend on the mode (UsageError, exit 2), so that a bad setting changes nothing anywhere.
 * The image name and tags come parsed by validation (ValidatedSettings.parsed), which checked the secrets
 * too: nothing here checks them again. Pure.
 */
import { join } from "node:path";
import { createdDriver } from "../buildx/builder-args.js";
import { cacheEntries } from "../buildx/cache-entries.js";
import { settingName } from "../config/provenance.js";
import type { OutputFormat, ResolvedSettings, Settings, ValidatedSettings } from "../config/settings.js";
import { UsageError } from "../errors.js";
import type { ModeName } from "../outputs/result.js";

type PlannedOutput =
  | { kind: "push" }
  | { kind: "tar"; format: OutputFormat; path: string; alsoLoad: boolean }
  | { kind: "load" }
  | { kind: "cacheOnly" };

export interface BuildRunPlan {
  mode: ModeName;
  output: PlannedOutput;
  /** The settings as the build uses them (the driver may differ from the user's, see `notes`). */
  settings: Settings;
  /** The tags (PLUGIN_TAGS, `latest` when empty). */
  tags: string[];
  /** `repo:tag` for every tag; empty without PLUGIN_REPO. */
  imageRefs: string[];
  dockerfile: string;
  context: string;
  /** Things worth a line in the log before the build. */
  notes: string[];
  warnings: string[];
}

interface PlanOptions {
  /** `build` (the subcommand) or `plugin` (PLUGIN_* only): the Dockerfile default differs, see below. */
  command: "plugin" | "build";
}

/** Whether the context is something buildx fetches (git, an archive URL) rather than a local folder. */
export function isRemoteContext(context: string): boolean {
  return /^(?:https?:\/\/|git@|git:\/\/|github\.com\/)/.test(context) || context === "-";
}

/** A `--cache-to` that only a BuildKit container can write: anything but `type=inline`. */
function needsContainerBuilder(cacheTo: readonly string[]): boolean {
  return cacheTo.some((spec) => !/(^|,)type=inline(,|$)/.test(spec.trim()));
}

function unset(resolved: ResolvedSettings, key: keyof Settings): boolean {
  const source = resolved.sources[key];
  return source === undefined || source.kind === "default";
}

/**
 * The warning for a tar path that a build which pushes (no dry run) does not write; `config` shows it
 * too. Bake warns of its own (bake files define their outputs), push-only has no tarball.
 */
export function unwrittenTarWarning({ settings, sources }: ResolvedSettings): string | undefined {
  if (!settings.tarPath || settings.dryRun || settings.pushOnly || settings.bakeFile) return undefined;
  return `${settingName("tarPath", sources)} is set but ${settingName("dryRun", sources)} is not true: the image is pushed and no tarball is written`;
}

export function planBuild(resolved: ValidatedSettings, options: PlanOptions): BuildRunPlan {
  const notes: string[] = [];
  const warnings: string[] = [];
  let settings = resolved.settings;

  // -- the image's names, as validation parsed them
  const repo = settings.repo?.trim() ?? "";
  const { tags } = resolved.parsed;
  const imageRefs = repo === "" ? [] : tags.map((tag) => `${repo}:${tag}`);

  // -- the builder
  const driver = createdDriver(settings);
  if (!driver && needsContainerBuilder(settings.cacheTo)) {
    // The docker driver exports no cache but inline; the plugin switches to a BuildKit container as well.
    notes.push("PLUGIN_CACHE_TO needs a BuildKit container: building with the docker-container driver");
    settings = { ...settings, builderDriver: "docker-container" };
  }
  if (driver !== "remote" && settings.builderRemoteConn) {
    warnings.push("PLUGIN_BUILDER_REMOTE_CONN applies only with PLUGIN_BUILDER_DRIVER=remote: ignored");
  }

  // -- what comes out of the build
  // The engine's own builder (the docker driver, no builder named) puts a dry run's image in the engine.
  const engineBuilder = !createdDriver(settings) && !settings.builderName?.trim();
  let output: PlannedOutput;
  if (!settings.dryRun) {
    if (repo === "") {
      throw new UsageError(
        "PLUGIN_REPO is not set: name the image to push (e.g. registry.example.com/team/app), or set PLUGIN_DRY_RUN=true to build without pushing",
      );
    }
    const unwrittenTar = unwrittenTarWarning(resolved);
    if (unwrittenTar) warnings.push(unwrittenTar);
    if (settings.load)
      warnings.push(
        "PLUGIN_BUILDX_LOAD applies only with PLUGIN_DRY_RUN=true: the image is pushed, not loaded",
      );
    output = { kind: "push" };
  } else if (settings.tarPath) {
    let format = settings.outputFormat;
    if (settings.platforms.length > 1) {
      if (unset(resolved, "outputFormat")) {
        format = "oci";
        notes.push(
          `writing an OCI tarball: the docker format cannot hold an image for ${settings.platforms.length} platforms (set PLUGIN_BUILDX_OUTPUT_FORMAT=oci to say so)`,
        );
      } else if (format === "docker") {
        throw new UsageError(
          `PLUGIN_BUILDX_OUTPUT_FORMAT=docker cannot hold an image for several platforms (PLUGIN_PLATFORM=${settings.platforms.join(",")}): use PLUGIN_BUILDX_OUTPUT_FORMAT=oci, or build one platform`,
        );
      }
    }
    // The plugin's dry run with a tar path (and no format) builds with --load and saves from the engine:
    // the image is then in the engine too. Here the tarball is written digest-exact by buildx and loaded
    // into the engine after, where the engine's own builder built it (a created builder may be elsewhere).
    const loadsByDefault = engineBuilder && unset(resolved, "load") && unset(resolved, "outputFormat");
    output = { kind: "tar", format, path: settings.tarPath, alsoLoad: settings.load || loadsByDefault };
  } else if (settings.load || (engineBuilder && unset(resolved, "load"))) {
    // The plugin's dry run builds with the docker driver's default output, which is the engine's image
    // store: a later step of the stage runs or scans the image there.
    output = { kind: "load" };
  } else {
    output = { kind: "cacheOnly" };
  }

  // -- PLUGIN_PATH_STYLE, PLUGIN_CACHE_TLS_INSECURE: attributes of the cache entries
  const cache = cacheEntries(settings);
  settings = { ...settings, cacheFrom: cache.cacheFrom, cacheTo: cache.cacheTo };
  notes.push(...cache.notes);

  // -- the inputs, as buildx reads them: `--file` relative to the working folder, not to the context
  // (https://docs.docker.com/reference/cli/docker/buildx/build/#file). The plugin passes its default
  // `Dockerfile` as is; the `build` command, like `docker build`, looks in the context instead.
  const context = settings.context.trim() === "" ? "." : settings.context;
  let dockerfile = settings.dockerfile.trim() === "" ? "Dockerfile" : settings.dockerfile;
  if (options.command === "build" && unset(resolved, "dockerfile") && !isRemoteContext(context)) {
    dockerfile = join(context, "Dockerfile");
  }

  return {
    mode: settings.dryRun ? "build-only" : "build-and-push",
    output,
    settings,
    tags,
    imageRefs,
    dockerfile,
    context,
    notes,
    warnings,
  };
}
