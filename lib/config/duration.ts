/**
 * Durations as settings give them: `90s`, `10m`, `1h`, `1h30m`, or plain seconds (`600`), the units of
 * Go's time.ParseDuration that make sense for a step (no ms, no negative, no fractions of a unit).
 */
const UNIT_MS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000 };

/** Milliseconds, or undefined when `text` is not such a duration (or is zero). */
export function parseDuration(text: string): number | undefined {
  const value = text.trim().toLowerCase();
  if (/^\d+$/.test(value)) return Number(value) > 0 ? Number(value) * 1_000 : undefined;
  if (!/^(\d+[hms])+$/.test(value)) return undefined;
  let total = 0;
  let lastUnit = Number.POSITIVE_INFINITY;
  for (const [, amount, unit] of value.matchAll(/(\d+)([hms])/g)) {
    const ms = UNIT_MS[unit as string] as number;
    // Each unit once, largest first: `1m1h` and `1m1m` are typing mistakes, not durations.
    if (ms >= lastUnit) return undefined;
    lastUnit = ms;
    total += Number(amount) * ms;
  }
  return total > 0 && Number.isSafeInteger(total) ? total : undefined;
}

/** A duration as people write it: 30m, 1h30m, 90s. */
export function formatDuration(ms: number): string {
  const parts: string[] = [];
  let rest = Math.round(ms / 1_000);
  for (const [unit, seconds] of [
    ["h", 3_600],
    ["m", 60],
    ["s", 1],
  ] as const) {
    if (rest >= seconds) {
      parts.push(`${Math.floor(rest / seconds)}${unit}`);
      rest %= seconds;
    }
  }
  return parts.join("") || "0s";
}
