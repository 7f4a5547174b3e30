/**
 * Merges esbuild's small chunks into fewer files with rollup, and writes them as CommonJS (issue 13).
 * esbuild splits at every dynamic import and makes one chunk for each set of entry points that share code,
 * so a push loaded 36 files of a few hundred bytes to a few kilobytes each, and esbuild has no option to
 * merge them. rollup's `experimentalMinChunkSize` merges a chunk smaller than the limit into another one
 * wherever that runs no code that would not have run otherwise; rollup takes esbuild's ES modules as they
 * are (no plugin reads CommonJS or TypeScript here: esbuild did all of that), and keeps every dynamic import
 * that stays lazy, as a `require` when it is reached.
 * Why CommonJS: Node 20 loads a CommonJS file for less than an ES module (no asynchronous loader, no
 * linking): a held push of 1 MB took 96 ms as ES modules and 85 ms as the same chunks in CommonJS, and only
 * CommonJS compilation can be given a V8 code cache on Node 20 (lib/compile-cache.ts). Measured with
 * `node dist/scripts/bench-startup.js` (README, Development). The bundled code was ES modules, so strict
 * mode already: the `'use strict'` of the output changes nothing.
 * Source maps are chained: each input's esbuild map is handed to rollup, so positions still map to the
 * TypeScript files.
 */
import { readFile } from "node:fs/promises";
import { isAbsolute, join } from "node:path";
import { type OutputChunk, type Plugin, rollup } from "rollup";

/** Hands rollup each esbuild file with its source map, so that rollup's map points at the TypeScript. */
function esbuildSourceMaps(): Plugin {
  return {
    name: "esbuild-source-maps",
    async load(id) {
      if (!id.endsWith(".js")) return null;
      const code = await readFile(id, "utf8");
      const map = await readFile(`${id}.map`, "utf8").catch(() => null);
      // The file's own `//# sourceMappingURL=` would point at esbuild's map, which is not shipped.
      return { code: code.replace(/\n\/\/# sourceMappingURL=\S+\s*$/, "\n"), map };
    },
  };
}

export interface MergedBundle {
  /** The output files (entry and chunks), with the size of each in bytes. */
  files: { name: string; bytes: number }[];
}

/**
 * Reads esbuild's output entry `from/entryName.js` (and the chunks it imports), writes the merged bundle
 * to `to` (`to/entryName.cjs`, chunks in `to/chunks/*.cjs`), with linked source maps.
 */
export async function mergeChunks(
  from: string,
  to: string,
  entryName: string,
  minChunkSize: number,
): Promise<MergedBundle> {
  const bundle = await rollup({
    input: { [entryName]: join(from, `${entryName}.js`) },
    plugins: [esbuildSourceMaps()],
    logLevel: "warn",
    // Only esbuild's own files are read; the rest stays an import: Node's built-in modules, and the
    // optional packages that are absent on purpose (scripts/bundle-absent-modules.ts).
    external: (id) => !id.startsWith(".") && !isAbsolute(id),
    onwarn(warning, warn) {
      // esbuild's chunks import each other in cycles wherever its modules did; rollup orders them as esbuild did.
      if (warning.code === "CIRCULAR_DEPENDENCY") return;
      warn(warning);
    },
  });
  try {
    const { output } = await bundle.write({
      dir: to,
      format: "cjs",
      entryFileNames: "[name].cjs",
      chunkFileNames: "chunks/[name]-[hash].cjs",
      // `import()` of a chunk becomes a `require` when reached (a missing optional package fails there, as
      // before), not an ES module import that the CommonJS code cache could not cover.
      dynamicImportInCjs: false,
      sourcemap: true,
      sourcemapExcludeSources: true,
      experimentalMinChunkSize: minChunkSize,
    });
    const chunks = output.filter((file): file is OutputChunk => file.type === "chunk");
    return { files: chunks.map((chunk) => ({ name: chunk.fileName, bytes: Buffer.byteLength(chunk.code) })) };
  } finally {
    await bundle.close();
  }
}
