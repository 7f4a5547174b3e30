/**
 * An esbuild plugin that turns three start-up `require`s into requires at first use:
 *   - dockerode/lib/docker.js loads ./session (which loads @grpc/grpc-js and @grpc/proto-loader) for
 *     BuildKit sessions of `buildImage`, which buildx-step never calls (it builds with `docker buildx`);
 *   - docker-modem/lib/modem.js loads ./ssh (which loads ssh2) for `DOCKER_HOST=ssh://...` only;
 *   - commander/lib/command.js loads node:child_process for executable subcommands only.
 * Loading them costs every engine-path run tens of milliseconds (measured in scripts/bench-startup.ts).
 * The code stays in the bundle, in the same chunk, and runs when called: behaviour is unchanged.
 * Each rewrite must find its exact line: after a dependency update that moved it, the bundle fails here
 * instead of silently paying the cost again.
 */
import { readFile } from "node:fs/promises";
import type { Plugin } from "esbuild";

interface Rewrite {
  /** The file, as a path ending. */
  file: RegExp;
  from: string;
  to: string;
}

const rewrites: Rewrite[] = [
  {
    file: /[\\/]node_modules[\\/]dockerode[\\/]lib[\\/]docker\.js$/,
    from: "withSession = require('./session'),",
    to: "withSession = function () { return require('./session').apply(this, arguments); },",
  },
  {
    file: /[\\/]node_modules[\\/]docker-modem[\\/]lib[\\/]modem\.js$/,
    from: "ssh = require('./ssh'),",
    to: "ssh = function (opt) { return require('./ssh')(opt); },",
  },
  {
    // commander spawns only for executable subcommands, which buildx-step has none of; child_process (and
    // dgram with it) would load on every run.
    file: /[\\/]node_modules[\\/]commander[\\/]lib[\\/]command\.js$/,
    from: "const childProcess = require('node:child_process');",
    to: "const childProcess = { spawn: (...args) => require('node:child_process').spawn(...args) };",
  },
];

export function lazyRequires(): Plugin {
  return {
    name: "buildx-step-lazy-requires",
    setup(build) {
      for (const rewrite of rewrites) {
        build.onLoad({ filter: rewrite.file }, async (args) => {
          const source = await readFile(args.path, "utf8");
          if (!source.includes(rewrite.from)) {
            return {
              errors: [
                {
                  text: `expected \`${rewrite.from}\` in ${args.path}: update scripts/bundle-lazy-requires.ts for this version`,
                },
              ],
            };
          }
          return { contents: source.replace(rewrite.from, rewrite.to), loader: "js" };
        });
      }
    },
  };
}
