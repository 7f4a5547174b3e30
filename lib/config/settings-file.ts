/**
 * The stage settings file: INI, read with `ini`. Keys are the plugin's setting names without `PLUGIN_`, in
 * lower case (`dry_run = true`, `tar_path = image.tar`). The top section applies to every step of the
 * stage; a `[step "NAME"]` section only to the step of that name, over the top section.
 */
import { readFile } from "node:fs/promises";
import ini from "ini";
import { UsageError } from "../errors.js";
import { IGNORED_ENV_NAMES } from "./ignored.js";
import { KNOWN_ENV_NAMES, type RawLayer } from "./layers.js";
import { fileKeyOf } from "./schema.js";
import type { SettingSource } from "./settings.js";
import { closestName } from "./unknown-variables.js";

interface SettingsFileLayers {
  /** The top section. */
  stage: RawLayer;
  /** The `[step "NAME"]` section of this step, if the file has one. */
  step: RawLayer;
  /** Step names the file has sections for (to help spot a misspelt step name). */
  steps: string[];
}

/** File key → the variable it stands for. */
const VARIABLE_OF_KEY: ReadonlyMap<string, string> = new Map(
  [...KNOWN_ENV_NAMES, ...IGNORED_ENV_NAMES].flatMap((name) => {
    const key = fileKeyOf(name);
    return key ? [[key, name] as const] : [];
  }),
);

/** Keys that only the environment may set: they choose the files themselves. */
const ENVIRONMENT_ONLY = new Set(["settings_file", "env_file"]);

const STEP_HEADER = /^\s*\[\s*step\s+"([^"]*)"\s*\]\s*$/;
const ANY_HEADER = /^\s*\[(.*)\]\s*$/;

/**
 * `ini` cuts an unquoted value at `;` or `#` (an inline comment): `cache_from = a;b` would silently be
 * `a`. The plugin's `;` lists make that a trap, so such a line is refused with the way out.
 */
function refuseInlineComments(text: string, path: string): void {
  const lines = text.split(/\r?\n/);
  lines.forEach((line, index) => {
    const trimmed = line.trim();
    if (trimmed === "" || trimmed.startsWith(";") || trimmed.startsWith("#") || trimmed.startsWith("["))
      return;
    const eq = line.indexOf("=");
    if (eq < 0) return;
    const value = line.slice(eq + 1).trim();
    if (value.startsWith('"') || value.startsWith("'")) return;
    if (/[;#]/.test(value)) {
      const key = line.slice(0, eq).trim();
      throw new UsageError(
        `${path} line ${index + 1}: the value of ${key} contains ";" or "#", which INI reads as the start of a comment: ` +
          `quote the value (${key} = "${value}") or write one \`${key.replace(/\[\]$/, "")}[] = ITEM\` line per item`,
      );
    }
  });
}

/** Section headers as `ini` should see them: dots in a step name escaped (it splits sections on dots). */
function escapeStepHeaders(text: string): string {
  return text
    .split(/\r?\n/)
    .map((line) => {
      const match = STEP_HEADER.exec(line);
      return match ? `[step "${(match[1] ?? "").replace(/\./g, "\\.")}"]` : line;
    })
    .join("\n");
}

/** A section's entries as raw values of the variables they stand for. */
function sectionLayer(entries: Record<string, unknown>, path: string, section: string): RawLayer {
  const raw: RawLayer = new Map();
  const where = section === "" ? path : `${path} [${section}]`;
  for (const [written, value] of Object.entries(entries)) {
    // Keys are lower case like the plugin's settings in YAML; `DRY_RUN` is taken as `dry_run`.
    const key = written.toLowerCase();
    const origin = `${written} in ${where}`;
    if (ENVIRONMENT_ONLY.has(key))
      throw new UsageError(
        `${origin}: ${key} can only be set in the environment (PLUGIN_${key.toUpperCase()})`,
      );
    const variable = VARIABLE_OF_KEY.get(key);
    if (!variable) {
      const closest = closestName(key, VARIABLE_OF_KEY.keys());
      throw new UsageError(
        `${origin} is not a setting${closest ? ` (did you mean ${closest}?)` : ""}: keys are the plugin's setting names without PLUGIN_, in lower case (e.g. dry_run, tar_path, tags)`,
      );
    }
    if (typeof value === "object" && value !== null && !Array.isArray(value))
      throw new UsageError(`${origin}: unexpected nested section`);
    const source: SettingSource = { kind: "file", path, section };
    // `ini` turns true/false into booleans and "null" into null: back to the text the user wrote.
    const text = (item: unknown) => (item === null ? "null" : String(item));
    raw.set(variable, { raw: Array.isArray(value) ? value.map(text) : text(value), origin, source });
  }
  return raw;
}

/** Reads the settings file for the step `step` (undefined: top section only). */
export async function readSettingsFile(
  path: string,
  step: string | undefined,
  origin: string,
): Promise<SettingsFileLayers> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : String(error);
    throw new UsageError(`settings file ${path} (from ${origin}) cannot be read: ${reason}`);
  }
  refuseInlineComments(text, path);
  for (const line of text.split(/\r?\n/)) {
    const header = ANY_HEADER.exec(line);
    if (header && !STEP_HEADER.test(line)) {
      throw new UsageError(
        `${path}: section [${header[1]}] is not one this file can have: use the top section for the whole stage and [step "NAME"] for one step`,
      );
    }
  }
  const parsed = ini.parse(escapeStepHeaders(text)) as Record<string, unknown>;
  const top: Record<string, unknown> = {};
  const sections = new Map<string, Record<string, unknown>>();
  for (const [key, value] of Object.entries(parsed)) {
    const match = /^step "(.*)"$/.exec(key);
    if (match && typeof value === "object" && value !== null && !Array.isArray(value)) {
      sections.set(match[1] ?? "", value as Record<string, unknown>);
    } else {
      top[key] = value;
    }
  }
  const stage = sectionLayer(top, path, "");
  // Every section is checked, not only this step's: a typo in another step's section is found now.
  const stepLayers = new Map(
    [...sections].map(([name, entries]) => [name, sectionLayer(entries, path, `step "${name}"`)]),
  );
  return {
    stage,
    step: (step !== undefined ? stepLayers.get(step) : undefined) ?? new Map(),
    steps: [...sections.keys()],
  };
}
