/**
 * The `docker buildx bake` argument list, as a pure function, in the plugin's order (drone-buildx docker.go
 * `commandBuildxBake`, https://github.com/drone-plugins/drone-buildx/blob/master/docker.go):
 * `buildx bake -f FILE [--builder NAME] (--push | --load) --metadata-file F OPTIONS...`, where a dry run
 * loads into the engine instead of pushing, and OPTIONS are PLUGIN_BAKE_OPTIONS' `;` items (targets, `--set`,
 * ...) trimmed, empty ones and a literal `--push` / `--load` dropped (the dry run setting decides those).
 * The metadata file is always asked for: the digests are read from it.
 * https://docs.docker.com/reference/cli/docker/buildx/bake/
 */
import type { Settings } from "../config/settings.js";

interface BakePlan {
  /** A created builder, or one the user named; undefined for the current (default) builder. */
  builder?: string;
  /** Push (`--push`) or, in a dry run, load into the engine (`--load`). */
  push: boolean;
  metadataFile: string;
}

/** The output switches bake gets from PLUGIN_DRY_RUN alone. */
const OUTPUT_SWITCHES = new Set(["--push", "--load"]);

/** PLUGIN_BAKE_OPTIONS as bake gets them, and the switches dropped from them. */
export function bakeOptionTokens(options: readonly string[]): { tokens: string[]; dropped: string[] } {
  const tokens: string[] = [];
  const dropped: string[] = [];
  for (const option of options) {
    const token = option.trim();
    if (token === "") continue;
    if (OUTPUT_SWITCHES.has(token)) dropped.push(token);
    else tokens.push(token);
  }
  return { tokens, dropped };
}

/** `docker buildx bake ...` as argv for `docker` (without the `docker` itself). */
export function buildxBakeArgs(
  settings: Pick<Settings, "bakeFile" | "bakeOptions">,
  plan: BakePlan,
): string[] {
  if (!settings.bakeFile) throw new Error("buildxBakeArgs: no bake file");
  const args = ["buildx", "bake", "-f", settings.bakeFile];
  if (plan.builder) args.push("--builder", plan.builder);
  args.push(plan.push ? "--push" : "--load");
  args.push("--metadata-file", plan.metadataFile);
  args.push(...bakeOptionTokens(settings.bakeOptions).tokens);
  return args;
}
