import type { Platform } from "./types.js";

/** `linux/arm64/v8` as docker and buildx write platforms. */
export function formatPlatform(platform: Partial<Platform> | undefined): string | undefined {
  if (!platform?.os || !platform.architecture) return undefined;
  return [platform.os, platform.architecture, ...(platform.variant ? [platform.variant] : [])].join("/");
}

/**
 * `os/arch[/variant]` with the variants that mean nothing filled in or left out, as containerd compares
 * platforms (containerd/platforms normalize.go): arm64 is arm64/v8, arm is arm/v7 unless it says,
 * amd64/v1 is amd64.
 */
export function normalizePlatform(platform: string): string {
  const [os = "", architecture = "", variant] = platform.trim().toLowerCase().split("/");
  const arch =
    { aarch64: "arm64", x86_64: "amd64", "x86-64": "amd64", armhf: "arm", armel: "arm" }[architecture] ??
    architecture;
  let v = variant;
  if (arch === "arm64" && (v === undefined || v === "8")) v = "v8";
  if (arch === "arm" && v === undefined) v = architecture === "armel" ? "v6" : "v7";
  if (arch === "arm" && /^\d$/.test(v ?? "")) v = `v${v}`;
  if (arch === "amd64" && v === "v1") v = undefined;
  return [os, arch, ...(v ? [v] : [])].join("/");
}

/** Whether `wanted` (what a user typed) names the platform `have` (as an index or config gives it). */
export function platformMatches(wanted: string, have: string): boolean {
  return normalizePlatform(wanted) === normalizePlatform(have);
}
