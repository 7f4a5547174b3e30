import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * Set by the bundler (scripts/bundle.ts, esbuild's `define`) to package.json's version: a bundle, and the
 * single executable above all, has no package.json beside it to read. Undeclared when run from tsc's output.
 */
declare const BUILDX_STEP_VERSION: string | undefined;

/** This package's version: the one the bundle was made with, else package.json's, found by walking up. */
export function packageVersion(): string {
  if (typeof BUILDX_STEP_VERSION === "string") return BUILDX_STEP_VERSION;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as {
        name?: string;
        version: string;
      };
      if (pkg.name === "buildx-step") return pkg.version;
    } catch {
      // not here: look one folder up
    }
    const parent = dirname(dir);
    if (parent === dir) return "unknown";
    dir = parent;
  }
}
