/**
 * Bundles the CLI with esbuild (issue 13), then merges its small chunks with rollup:
 *   dist/bundle/buildx-step.cjs + chunks/  CommonJS files split at every dynamic import(): the npm package's
 *       bin. The entry and the code every run needs load first; the AWS SDK, dockerode, the build modes are
 *       chunks that only the modes using them load. esbuild makes a chunk per set of entry points sharing
 *       code (90 files, 36 of them loaded by a push); rollup merges the small ones and writes CommonJS
 *       (scripts/bundle-merge-chunks.ts: a push loads 12). Source maps beside them (read with
 *       BUILDX_STEP_DEBUG).
 *   dist/sea/buildx-step.cjs               one CommonJS file with everything, which the single executable
 *       embeds (Node 20's SEA runs one CommonJS script and cannot load files of its own).
 * Both have no dependency left to install: the npm package has no `dependencies`, so no native build.
 * dockerode's gRPC and ssh2 are loaded at first use only (scripts/bundle-lazy-requires.ts); optional modules
 * that are not there fail as missing modules do (scripts/bundle-absent-modules.ts).
 *   node dist/scripts/bundle.js      (part of `npm run build`)
 */
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { type BuildOptions, build, type Metafile } from "esbuild";
import { absentModules } from "./bundle-absent-modules.js";
import { lazyRequires } from "./bundle-lazy-requires.js";
import { mergeChunks } from "./bundle-merge-chunks.js";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const entry = join(root, "bin", "buildx-step.ts");

const common: BuildOptions = {
  entryPoints: [entry],
  bundle: true,
  platform: "node",
  target: "node20",
  minify: true,
  // Positions map back to the TypeScript files; the sources themselves are not needed for a stack trace.
  sourcemap: "linked",
  sourcesContent: false,
  legalComments: "none",
  metafile: true,
  logLevel: "warning",
  plugins: [lazyRequires(), absentModules()],
};

/** The packages whose code a bundle holds, with their licence texts, for THIRD-PARTY-LICENSES.txt. */
async function licences(metafile: Metafile): Promise<string> {
  const packages = new Map<string, string>();
  for (const input of Object.keys(metafile.inputs)) {
    const match = /(?:^|\/)node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(input);
    if (match?.[1]) {
      const at = input.lastIndexOf(`node_modules/${match[1]}/`) + `node_modules/${match[1]}`.length;
      packages.set(match[1], join(root, input.slice(0, at)));
    }
  }
  const sections: string[] = [];
  for (const [name, dir] of [...packages].sort(([a], [b]) => a.localeCompare(b))) {
    const pkg = JSON.parse(await readFile(join(dir, "package.json"), "utf8")) as {
      version: string;
      license?: string;
    };
    let text = "";
    for (const file of ["LICENSE", "LICENSE.md", "LICENSE.txt", "license", "LICENCE", "LICENSE-MIT"]) {
      text = await readFile(join(dir, file), "utf8").catch(() => "");
      if (text) break;
    }
    sections.push(`${name}@${pkg.version} (${pkg.license ?? "see package"})\n\n${text.trim()}`);
  }
  return `buildx-step bundles the following packages.\n\n${sections.join(`\n\n${"-".repeat(72)}\n\n`)}\n`;
}

/** `metafile: true` is set above, so esbuild always returns one. */
function metafileOf(result: { metafile?: Metafile }): Metafile {
  if (!result.metafile) throw new Error("esbuild returned no metafile");
  return result.metafile;
}

async function main(): Promise<void> {
  const pkg = JSON.parse(await readFile(join(root, "package.json"), "utf8")) as { version: string };
  const define = { BUILDX_STEP_VERSION: JSON.stringify(pkg.version) };

  const npmDir = join(root, "dist", "bundle");
  await rm(npmDir, { recursive: true, force: true });
  const split = await mkdtemp(join(tmpdir(), "buildx-step-esbuild-"));
  let esm: Metafile;
  let merged: Awaited<ReturnType<typeof mergeChunks>>;
  try {
    esm = metafileOf(
      await build({
        ...common,
        define,
        format: "esm",
        splitting: true,
        outdir: split,
        entryNames: "[name]",
        chunkNames: "[name]-[hash]",
      }),
    );
    // A chunk under this size is merged into another wherever that loads no code a run would not load
    // anyway. The files a push loads, counted: rollup's own chunking alone 15, with a limit of 20, 100 or
    // 500 kB 13 (12 since run-step is imported statically).
    merged = await mergeChunks(split, npmDir, "buildx-step", 100_000);
  } finally {
    await rm(split, { recursive: true, force: true });
  }
  await writeFile(join(npmDir, "THIRD-PARTY-LICENSES.txt"), await licences(esm));

  const seaDir = join(root, "dist", "sea");
  await rm(seaDir, { recursive: true, force: true });
  await build({
    ...common,
    define: { ...define, "import.meta.url": "undefined" },
    format: "cjs",
    outfile: join(seaDir, "buildx-step.cjs"),
  });
  await writeFile(join(seaDir, "THIRD-PARTY-LICENSES.txt"), await licences(esm));

  const bytes = merged.files.reduce((sum, file) => sum + file.bytes, 0);
  process.stderr.write(
    `bundle: ${relative(root, npmDir)} (${merged.files.length} files, ${(bytes / 1e6).toFixed(2)} MB of JavaScript), ${relative(root, seaDir)}\n`,
  );
}

main().catch((error: unknown) => {
  process.stderr.write(`bundle: ${(error as Error).message}\n`);
  process.exitCode = 1;
});
