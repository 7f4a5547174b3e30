/**
 * An esbuild plugin for the optional modules that dependencies try to load and do without: each becomes a
 * module that fails to load as a missing one does (MODULE_NOT_FOUND), which those callers catch.
 *   - supports-color (debug, under docker-modem): not installed; colours are for terminals only;
 *   - cpu-features and ssh2's sshcrypto.node: native add-ons, which a bundle cannot hold; ssh2 then uses
 *     its JavaScript ciphers.
 * Left as plain require() calls instead, the single executable would print Node's warning that its
 * require() loads built-in modules only, in the middle of a step's log.
 */
import type { Plugin } from "esbuild";

const ABSENT = /^(supports-color|cpu-features)$|\.node$/;

export function absentModules(): Plugin {
  return {
    name: "buildx-step-absent-modules",
    setup(build) {
      build.onResolve({ filter: ABSENT }, (args) => ({ path: args.path, namespace: "absent" }));
      build.onLoad({ filter: /.*/, namespace: "absent" }, (args) => ({
        contents: `const error = new Error(${JSON.stringify(`Cannot find module '${args.path}' (not part of the buildx-step bundle)`)}); error.code = "MODULE_NOT_FOUND"; throw error;`,
        loader: "js",
      }));
    },
  };
}
