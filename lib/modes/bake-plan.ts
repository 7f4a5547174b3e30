/**
 * What a bake run (PLUGIN_BAKE_FILE) will do, decided from the settings alone: push, or in a dry run load
 * into the engine, the targets and options bake gets, and a warning for each setting of `docker buildx
 * build` that bake does not use, as the plugin prints them ("Bake mode: ignoring PLUGIN_CACHE_*; define cache
 * in the bake file", "... ignoring PLUGIN_TAR_PATH; define outputs in the bake file"; drone-buildx docker.go
 * `Exec`). As in the plugin, bake mode adds no proxy build args and does not switch to a docker-container
 * builder for PLUGIN_CACHE_TO. Pure.
 */
import { bakeOptionTokens } from "../buildx/bake-args.js";
import { settingName } from "../config/provenance.js";
import type { SettingKey } from "../config/schema.js";
import type { ResolvedSettings, Settings } from "../config/settings.js";
import type { ModeName } from "../outputs/result.js";

interface BakeRunPlan {
  mode: ModeName;
  push: boolean;
  settings: Settings;
  notes: string[];
  warnings: string[];
}

/** Build settings the bake file defines instead, grouped by what the warning tells the user to do. */
const NOT_FOR_BAKE: readonly { keys: SettingKey[]; instead: string }[] = [
  { keys: ["tarPath", "outputFormat", "load"], instead: "define outputs in the bake file" },
  {
    keys: ["cacheFrom", "cacheTo", "noCache", "cachePathStyle", "cacheTlsInsecure"],
    instead: "define cache-from, cache-to and no-cache in the bake file",
  },
  { keys: ["repo", "tags"], instead: "the bake file's targets name their own tags" },
  {
    keys: [
      "dockerfile",
      "context",
      "target",
      "buildArgs",
      "buildArgsFromEnv",
      "secret",
      "secretsFromEnv",
      "secretsFromFile",
      "labels",
      "labelSchema",
      "autoLabel",
      "addHost",
      "platforms",
      "pullImage",
      "buildxOptions",
      "sshAgentKey",
    ],
    instead: "define them in the bake file's targets, or pass --set through PLUGIN_BAKE_OPTIONS",
  },
];

function isSet(resolved: ResolvedSettings, key: SettingKey): boolean {
  const source = resolved.sources[key];
  return source !== undefined && source.kind !== "default";
}

export function planBake(resolved: ResolvedSettings): BakeRunPlan {
  const { settings, sources } = resolved;
  const warnings: string[] = [];
  const notes: string[] = [];
  for (const group of NOT_FOR_BAKE) {
    const names = group.keys.filter((key) => isSet(resolved, key)).map((key) => settingName(key, sources));
    if (names.length === 0) continue;
    warnings.push(
      `${names.join(", ")} ${names.length === 1 ? "is" : "are"} not used in bake mode (${settingName("bakeFile", sources)}): ${group.instead}`,
    );
  }
  const { dropped } = bakeOptionTokens(settings.bakeOptions);
  if (dropped.length > 0) {
    notes.push(
      `${settingName("bakeOptions", sources)}: ${dropped.join(", ")} left out: ${settingName("dryRun", sources)} decides between --push and --load (as in the plugin)`,
    );
  }
  return {
    mode: settings.dryRun ? "build-only" : "build-and-push",
    push: !settings.dryRun,
    settings,
    notes,
    warnings,
  };
}
