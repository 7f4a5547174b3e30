/**
 * `PLUGIN_*` variables that are neither a setting nor an ignored setting of the plugin: almost always a typo
 * (`PLUGIN_PLATFORMS` for `PLUGIN_PLATFORM`), which the plugin would ignore silently. Each gets a warning
 * with the closest known name; the run goes on (a stage's variables reach every step, also those of other
 * plugins, so an unknown name is not an error).
 */
import { IGNORED_ENV_NAMES } from "./ignored.js";
import { KNOWN_ENV_NAMES } from "./layers.js";

/** Variables read outside the settings table: they choose the settings files themselves. */
const FILE_VARIABLES = ["PLUGIN_ENV_FILE", "PLUGIN_SETTINGS_FILE"];

/** Every `PLUGIN_*` name this tool reads or knows to ignore. */
const KNOWN_PLUGIN_VARIABLES: ReadonlySet<string> = new Set(
  [...KNOWN_ENV_NAMES, ...IGNORED_ENV_NAMES, ...FILE_VARIABLES].filter((name) => name.startsWith("PLUGIN_")),
);

/** Edit distance with adjacent transpositions (optimal string alignment). */
function editDistance(a: string, b: string): number {
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d: number[][] = Array.from({ length: rows }, (_, i) =>
    Array.from({ length: cols }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  const at = (i: number, j: number) => d[i]?.[j] ?? Number.POSITIVE_INFINITY;
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let value = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        value = Math.min(value, at(i - 2, j - 2) + 1);
      (d[i] as number[])[j] = value;
    }
  }
  return at(a.length, b.length);
}

/** The known name closest to `name`, when it is close enough to be a likely typo. */
export function closestName(name: string, candidates: Iterable<string>): string | undefined {
  let best: { name: string; distance: number } | undefined;
  for (const candidate of candidates) {
    // A name cut short or run on by one word (PLUGIN_SOURCE_TAR, PLUGIN_TAGS_LIST) is as likely as a typo.
    const oneWordApart = candidate.startsWith(`${name}_`) || name.startsWith(`${candidate}_`);
    const distance = oneWordApart ? 1 : editDistance(name, candidate);
    if (!best || distance < best.distance) best = { name: candidate, distance };
  }
  // A third of the part after PLUGIN_ may differ: PLUGIN_PLATFORMS, PLUGIN_DRYRUN, PLUGIN_TAG_PATH.
  const allowed = Math.max(2, Math.floor(name.replace(/^PLUGIN_/, "").length / 3));
  return best && best.distance <= allowed ? best.name : undefined;
}

/** A warning for each `PLUGIN_*` variable of `env` that no setting reads. */
export function unknownVariableWarnings(env: NodeJS.ProcessEnv): string[] {
  const warnings: string[] = [];
  for (const name of Object.keys(env).sort()) {
    if (!name.startsWith("PLUGIN_") || KNOWN_PLUGIN_VARIABLES.has(name)) continue;
    const closest = closestName(name, KNOWN_PLUGIN_VARIABLES);
    warnings.push(
      closest
        ? `${name} is not a setting and is ignored: did you mean ${closest}?`
        : `${name} is not a setting of buildx-step or the Drone/Harness buildx plugin and is ignored`,
    );
  }
  return warnings;
}
