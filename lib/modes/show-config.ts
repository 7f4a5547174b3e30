/**
 * `buildx-step config`: the resolved settings with where each came from, as a table or (`--json`) as
 * JSON, so that a user can see why, say, dry run was or was not in effect. Secrets are shown as `***`.
 */
import { describeSource } from "../config/provenance.js";
import { isSecretValue, primaryEnvName, SETTINGS, type SettingValue } from "../config/schema.js";
import type { ResolvedSettings, RunContext, SettingSource } from "../config/settings.js";
import { unwrittenTarWarning } from "./build-plan.js";

const MASK = "***";

interface ConfigRow {
  /** `dryRun`, or `run.commitRef` for the CI context. */
  setting: string;
  /** The main variable of the setting (`PLUGIN_DRY_RUN`), if it has one. */
  env?: string;
  value: SettingValue;
  source: SettingSource;
  /** The source as the table shows it: `default`, `env PLUGIN_NO_PUSH`, `file stage.ini [step "x"]`, `flag --tag`. */
  from: string;
}

interface ConfigReport {
  rows: ConfigRow[];
  warnings: string[];
  skip?: string;
}

/** Credentials in a URL's user-info (`https://user:token@host`) are secrets too. */
function maskUrlCredentials(value: string): string {
  return value.replace(/(\/\/)[^/@\s]+@/g, `$1${MASK}@`);
}

function shown(value: SettingValue, secret: boolean): SettingValue {
  if (secret) return Array.isArray(value) ? value.map(() => MASK) : MASK;
  if (typeof value === "string") return maskUrlCredentials(value);
  if (Array.isArray(value)) return value.map(maskUrlCredentials);
  return value;
}

/** The rows `config` shows: every setting that has a value (secrets masked), then the CI context. */
export function configReport(resolved: ResolvedSettings): ConfigReport {
  const rows: ConfigRow[] = [];
  for (const spec of SETTINGS) {
    const value = resolved.settings[spec.key];
    const source = resolved.sources[spec.key];
    if (value === undefined || !source) continue;
    rows.push({
      setting: spec.key,
      env: spec.env.length > 0 ? primaryEnvName(spec.key) : undefined,
      value: shown(value, isSecretValue(spec, value)),
      source,
      from: describeSource(source),
    });
  }
  const run = resolved.settings.run;
  for (const [field, value] of Object.entries(run) as [keyof RunContext, string | undefined][]) {
    const source = resolved.runSources?.[field];
    if (value === undefined || !source) continue;
    rows.push({ setting: `run.${field}`, value: shown(value, false), source, from: describeSource(source) });
  }
  // The run warns of a tarball it will not write when it plans the build; `config` plans nothing.
  const unwrittenTar = unwrittenTarWarning(resolved);
  const warnings = unwrittenTar ? [...resolved.warnings, unwrittenTar] : resolved.warnings;
  const report: ConfigReport = { rows, warnings };
  if (resolved.skip !== undefined) report.skip = resolved.skip;
  return report;
}

function text(value: SettingValue): string {
  if (Array.isArray(value)) return value.length === 0 ? "[]" : value.map((v) => JSON.stringify(v)).join(", ");
  return String(value);
}

/** The report as an aligned table. */
export function formatConfigTable(report: ConfigReport): string {
  const header = ["SETTING", "VALUE", "SOURCE"];
  const lines = report.rows.map((row) => [
    row.env ? `${row.setting} (${row.env})` : row.setting,
    text(row.value),
    row.from,
  ]);
  const width = (column: number) =>
    Math.max(...[header, ...lines].map((line) => (line[column] ?? "").length));
  const widths = [width(0), Math.min(width(1), 60)];
  const format = (line: string[]) =>
    `${(line[0] ?? "").padEnd(widths[0] ?? 0)}  ${(line[1] ?? "").padEnd(widths[1] ?? 0)}  ${line[2] ?? ""}`.trimEnd();
  const out = [format(header), ...lines.map(format)];
  if (report.skip) out.push("", `skip: ${report.skip}`);
  for (const warning of report.warnings) out.push(`warning: ${warning}`);
  return `${out.join("\n")}\n`;
}

/** The report as JSON: `settings` and `run` by name, each with value and source. */
export function formatConfigJson(report: ConfigReport): string {
  const settings: Record<string, unknown> = {};
  const run: Record<string, unknown> = {};
  for (const row of report.rows) {
    const entry = {
      value: row.value,
      source: row.source,
      from: row.from,
      ...(row.env ? { env: row.env } : {}),
    };
    if (row.setting.startsWith("run.")) run[row.setting.slice(4)] = entry;
    else settings[row.setting] = entry;
  }
  const json: Record<string, unknown> = { settings, run, warnings: report.warnings };
  if (report.skip !== undefined) json.skip = report.skip;
  return `${JSON.stringify(json, null, 2)}\n`;
}

export async function runConfig(
  resolved: ResolvedSettings,
  options: { json: boolean; write?: (text: string) => void },
): Promise<number> {
  const write = options.write ?? ((out: string) => process.stdout.write(out));
  const report = configReport(resolved);
  write(options.json ? formatConfigJson(report) : formatConfigTable(report));
  return 0;
}
