import { readFile } from "node:fs/promises";
import { isAbsolute, join, resolve } from "node:path";
import dotenv from "dotenv";
import { UsageError } from "../errors.js";
import { autoTags } from "./auto-tag.js";
import { ignoredEnvironment, ignoredWarnings } from "./ignored.js";
import {
  defaultLayer,
  environmentLayer,
  type FlagValue,
  flagLayer,
  type Layer,
  type RawLayer,
  settingsOf,
  settle,
} from "./layers.js";
import { parseList } from "./parse.js";
import { applyPluginRules } from "./plugin-rules.js";
import { settingName } from "./provenance.js";
import { readRunContext } from "./run-context.js";
import { SETTINGS } from "./schema.js";
import type { ResolvedSettings, SettingSource, ValidatedSettings } from "./settings.js";
import { readSettingsFile } from "./settings-file.js";
import { unknownVariableWarnings } from "./unknown-variables.js";
import { validateSettings } from "./validate.js";

export interface ResolveInput {
  env: NodeJS.ProcessEnv;
  flags: FlagValue[];
  /** `--settings FILE` (else `PLUGIN_SETTINGS_FILE`). */
  settingsFile?: string;
  /** `--step NAME` (else `DRONE_STEP_NAME` / `HARNESS_STEP_ID`). */
  step?: string;
  /** Relative paths in settings resolve against this. */
  cwd: string;
}

/**
 * `PLUGIN_ENV_FILE`: a dotenv file loaded before anything is read, as the plugin does with
 * `godotenv.Load`, which never overrides a variable that is already set.
 */
async function withEnvFile(env: NodeJS.ProcessEnv, cwd: string): Promise<NodeJS.ProcessEnv> {
  const file = env.PLUGIN_ENV_FILE;
  if (!file) return env;
  let text: string;
  try {
    text = await readFile(resolve(cwd, file), "utf8");
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : String(error);
    throw new UsageError(`PLUGIN_ENV_FILE ${file} cannot be read: ${reason}`);
  }
  return { ...dotenv.parse(text), ...env };
}

/**
 * The plugin's `.tags` file (urfave/cli `FilePath: ".tags"` of the tags flag): a comma-separated list in
 * the working folder, used when neither PLUGIN_TAG nor PLUGIN_TAGS is set (urfave/cli reads a flag's
 * file only when none of its variables is set). Here it also overrides the settings file: it is usually
 * written by an earlier step of the same run, which is more specific than the stage's file.
 */
async function tagsFileLayer(cwd: string): Promise<Layer> {
  const path = join(cwd, ".tags");
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch {
    return new Map();
  }
  const source: SettingSource = { kind: "file", path, section: "" };
  return new Map([["tags", { value: parseList(text, "comma", path), source }]]);
}

function stack(layers: Layer[]): Layer {
  const merged: Layer = new Map();
  for (const layer of layers) for (const [key, value] of layer) merged.set(key, value);
  return merged;
}

/** Resolves and validates the settings of one run. Throws UsageError (exit 2) for bad input. */
export async function resolveSettings(input: ResolveInput): Promise<ValidatedSettings> {
  const { cwd } = input;
  const env = await withEnvFile(input.env, cwd);
  const warnings: string[] = [];

  const step = input.step ?? (env.DRONE_STEP_NAME || env.HARNESS_STEP_ID || undefined);
  const fileFrom = input.settingsFile !== undefined ? "--settings" : "PLUGIN_SETTINGS_FILE";
  const fileName = input.settingsFile ?? (env.PLUGIN_SETTINGS_FILE || undefined);

  let stageLayer: Layer = new Map();
  let stepLayer: Layer = new Map();
  const ignoredRaw: RawLayer[] = [];
  if (fileName !== undefined) {
    const path = isAbsolute(fileName) ? fileName : resolve(cwd, fileName);
    const file = await readSettingsFile(path, step, fileFrom);
    stageLayer = settle(file.stage);
    stepLayer = settle(file.step);
    ignoredRaw.push(file.stage, file.step);
    if (step === undefined && file.steps.length > 0) {
      warnings.push(
        `${path} has [step "..."] sections but this step's name is not known (DRONE_STEP_NAME and HARNESS_STEP_ID are unset): only the top section applies; pass --step NAME`,
      );
    }
  }
  ignoredRaw.push(ignoredEnvironment(env));
  for (const raw of ignoredRaw) warnings.push(...ignoredWarnings(raw));
  warnings.push(...unknownVariableWarnings(env));

  const merged = stack([
    defaultLayer(),
    stageLayer,
    stepLayer,
    await tagsFileLayer(cwd),
    settle(environmentLayer(env)),
    flagLayer(input.flags),
  ]);

  const given: Layer = new Map();
  const sources: ResolvedSettings["sources"] = {};
  for (const spec of SETTINGS) {
    const entry = merged.get(spec.key);
    if (!entry) continue;
    let value = entry.value;
    // `-` is standard input, not a file named "-" in the working folder.
    // A key given as its content (PLUGIN_SIGN_KEY) is not a path.
    if (spec.path && typeof value === "string" && value !== "" && value !== "-" && !spec.secretWhen?.(value))
      value = resolve(cwd, value);
    given.set(spec.key, { value, source: entry.source });
    sources[spec.key] = entry.source;
  }

  const context = readRunContext(env);
  if (input.step !== undefined) {
    context.run.stepName = input.step;
    context.sources.stepName = { kind: "flag", name: "--step" };
  }
  const settings = settingsOf(given, context.run);
  const resolved: ResolvedSettings = { settings, sources, warnings, runSources: context.sources, env };

  if (settings.autoTag) {
    const result = autoTags(
      settings.run.commitRef ?? "",
      settings.run.repoBranch ?? "",
      settings.autoTagSuffix,
    );
    if ("skip" in result) {
      resolved.skip = result.skip;
    } else {
      const replaced = sources.tags?.kind !== "default";
      if (replaced) {
        warnings.push(
          `${settingName("tags", sources)} is replaced by the auto tags ${result.tags.join(", ")} because ${settingName("autoTag", sources)} is true (as in the plugin)`,
        );
      }
      settings.tags = result.tags;
      sources.tags = sources.autoTag as SettingSource;
    }
  }

  applyPluginRules(resolved);

  if (settings.signKey && settings.dryRun && !settings.pushOnly) {
    warnings.push(
      `${settingName("signKey", sources)} is set but ${settingName("dryRun", sources)} is true: nothing is pushed, so nothing is signed (sign in the step that pushes)`,
    );
  }
  if (settings.sourceTarPath && !settings.pushOnly) {
    warnings.push(
      `${settingName("sourceTarPath", sources)} is set but ${settingName("pushOnly", sources)} is not true: it is not used`,
    );
  }

  return { ...resolved, parsed: await validateSettings(resolved, cwd) };
}
