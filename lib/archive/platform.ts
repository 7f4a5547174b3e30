import type { Platform } from "./types.js";

/** `linux/arm64/v8` as docker and buildx write platforms. */
export function formatPlatform(platform: Partial<Platform> | undefined): string | undefined {
  if (!platform?.os || !platform.architecture) return undefined;
  return [platform.os, platform.architecture, ...(platform.variant ? [platform.variant] : [])].join("/");
}
