/**
 * Soak (issue 16.4): many consecutive runs of buildx-step, as one runner host makes them all day, and
 * what they leave behind. Each run:
 *   1. builds a context (one file changes per run, as commits do) to a tarball (dry run, the tarball
 *      only: PLUGIN_BUILDX_LOAD=false, else the plugin's dry run also loads the image into the engine);
 *   2. pushes that tarball, and two generated ones (3 MB; 20 MB, sent in chunks) into repositories of
 *      its own in one registry (new repositories: every run uploads every blob again);
 *   3. pushes the 3 MB tarball through the engine (`--via daemon`: load, tag, push, names put back).
 * Every command runs with TMPDIR set to a folder of the soak's own. After each run and at the end: the
 * files in that folder (none should stay), buildx's builders (none should be added), images in the
 * engine that the soak's images brought (labelled `buildx-step-soak`: none but the generated tarball's
 * own name, which an engine push keeps as `docker load` does), dangling images with that label (none),
 * and the registry's open upload sessions (compared with before the runs). Time per run, first runs and
 * last runs, and its trend (least squares, ms per run) show whether runs get slower.
 *
 * Run: `npm run soak` (options: --runs N (200), --keep). Uses the engine; heavy (minutes). Not part of
 * `npm test`.
 */
import { execFile } from "node:child_process";
import { copyFile, mkdir, readdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { cliPath } from "../test/helpers/cli.js";
import { generateImage, MB } from "../test/helpers/random-tarball.js";
import { startRegistry, uploadSessions } from "../test/helpers/registry.js";
import { tempDir } from "../test/helpers/tmp.js";

const exec = promisify(execFile);
const LABEL = "buildx-step-soak";

/** Everything in `dir`, recursively, as paths relative to it. */
async function filesIn(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true }).catch(() => []);
  return entries.map(String).sort();
}

async function builders(): Promise<string[]> {
  const { stdout } = await exec("docker", ["buildx", "ls", "--format", "{{.Name}}"]);
  // A builder's nodes are listed under it; only the builders count.
  const names = stdout
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line !== "" && !line.startsWith("\\_"));
  return [...new Set(names)].sort();
}

/** `ID name` of every image the soak's label marks (named or not). */
async function labelledImages(filter: string[] = []): Promise<string[]> {
  const { stdout } = await exec("docker", [
    "image",
    "ls",
    "--no-trunc",
    "--filter",
    `label=${LABEL}`,
    ...filter,
    "--format",
    "{{.ID}} {{.Repository}}:{{.Tag}}",
  ]);
  return stdout.split("\n").filter(Boolean).sort();
}

interface Leftovers {
  tempFiles: string[];
  builders: string[];
  images: string[];
  dangling: string[];
  sessions: number;
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
};

/** The slope of the least-squares line through (run, ms): how much slower each run gets. */
function trend(values: number[]): number {
  const n = values.length;
  if (n < 2) return 0;
  const meanX = (n - 1) / 2;
  const meanY = values.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  for (const [x, y] of values.entries()) {
    num += (x - meanX) * (y - meanY);
    den += (x - meanX) ** 2;
  }
  return num / den;
}

async function main() {
  const argv = process.argv.slice(2);
  const runs = argv.includes("--runs") ? Number(argv[argv.indexOf("--runs") + 1]) : 200;
  const keep = argv.includes("--keep");
  const work = await tempDir("buildx-step-soak-");
  const say = (line: string) => process.stderr.write(`soak: ${line}\n`);
  const registry = await startRegistry();
  const engineName = `${LABEL}/engine:latest`;
  try {
    const runTmp = join(work.path, "tmp");
    await mkdir(runTmp);
    const labels = { [LABEL]: "1" };
    const small = await generateImage(join(work.path, "small"), [3 * MB], engineName, { labels });
    const large = await generateImage(join(work.path, "large"), [20 * MB], `${LABEL}/large:latest`, {
      labels,
    });
    const context = join(work.path, "context");
    await mkdir(context);
    await copyFile("/bin/busybox", join(context, "busybox"));
    await writeFile(
      join(context, "Dockerfile"),
      `FROM scratch\nLABEL ${LABEL}=1\nCOPY busybox /bin/busybox\nCOPY commit.txt /commit.txt\n`,
    );
    const built = join(work.path, "built.tar");

    const env = { ...process.env, TMPDIR: runTmp, CI: "true" };
    const cli = async (args: string[], extra: NodeJS.ProcessEnv = {}, cwd = work.path) => {
      try {
        await exec(process.execPath, [cliPath, ...args], {
          env: { ...env, ...extra },
          cwd,
          maxBuffer: 16 * MB,
        });
      } catch (error) {
        const stderr = (error as { stderr?: string }).stderr ?? "";
        throw new Error(
          `buildx-step ${args.join(" ")} failed: ${stderr.trim().split("\n").slice(-4).join(" | ")}`,
        );
      }
    };

    const snapshot = async (): Promise<Leftovers> => ({
      tempFiles: await filesIn(runTmp),
      builders: await builders(),
      images: await labelledImages(),
      dangling: await labelledImages(["--filter", "dangling=true"]),
      sessions: (await uploadSessions(registry.storage)).length,
    });
    const before = await snapshot();
    say(
      `before: ${before.tempFiles.length} temp files, builders ${before.builders.join(", ")}, ${before.images.length} labelled images, ${before.sessions} upload sessions`,
    );

    const times: number[] = [];
    const leaks: string[] = [];
    for (let run = 1; run <= runs; run++) {
      const started = process.hrtime.bigint();
      await writeFile(join(context, "commit.txt"), `run ${run} of ${process.pid}\n`);
      // Plugin mode, as a pipeline step runs it: the context is the working folder. A dry run also loads
      // the image into the engine unless told not to (the plugin's behaviour): here the tarball is all.
      const build = {
        PLUGIN_DRY_RUN: "true",
        PLUGIN_TAR_PATH: built,
        PLUGIN_BUILDX_LOAD: "false",
        PLUGIN_REPO: `${LABEL}/built`,
        PLUGIN_TAGS: `r${run}`,
      };
      await cli([], build, context);
      const target = (name: string) => `${registry.host}/soak/run-${run}/${name}`;
      await cli(["push", built, "--repo", target("built"), "--tag", `r${run}`]);
      await cli(["push", small.tarball, "--repo", target("small"), "--tag", "1"]);
      await cli(["push", large.tarball, "--repo", target("large"), "--tag", "1", "--tag", "2"]);
      await cli(["push", small.tarball, "--via", "daemon", "--repo", target("engine"), "--tag", "1"]);
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      times.push(ms);
      const now = await snapshot();
      const temp = now.tempFiles.length;
      const extraImages = now.images.filter((image) => !image.endsWith(` ${engineName}`));
      if (temp > 0 || now.dangling.length > 0 || extraImages.length > 0 || now.sessions > before.sessions) {
        leaks.push(
          `run ${run}: ${temp} temp files (${now.tempFiles.slice(0, 3).join(", ")}), ${now.dangling.length} dangling, ${extraImages.length} other labelled images, ${now.sessions - before.sessions} new sessions`,
        );
        say(leaks.at(-1) ?? "");
      }
      if (run % 10 === 0 || run === 1) say(`run ${run}: ${(ms / 1000).toFixed(2)} s`);
    }
    const after = await snapshot();

    const first = times.slice(0, 10);
    const last = times.slice(-10);
    const lines = [
      "",
      `soak: ${runs} runs (each: a build to a tarball, three pushes of tarballs, one push through the engine)`,
      `time per run: first 10 median ${(median(first) / 1000).toFixed(2)} s, last 10 median ${(median(last) / 1000).toFixed(2)} s, all median ${(median(times) / 1000).toFixed(2)} s, trend ${trend(times).toFixed(2)} ms per run`,
      `temp folder: ${before.tempFiles.length} files before, ${after.tempFiles.length} after${after.tempFiles.length ? ` (${after.tempFiles.slice(0, 5).join(", ")})` : ""}`,
      `buildx builders: before ${before.builders.join(", ")}; after ${after.builders.join(", ")}`,
      `labelled images in the engine: before ${before.images.length}, after ${after.images.length}: ${after.images.map((i) => i.split(" ")[1]).join(", ") || "none"}`,
      `dangling labelled images: before ${before.dangling.length}, after ${after.dangling.length}`,
      `registry upload sessions: before ${before.sessions}, after ${after.sessions}`,
      `runs that left something at their end: ${leaks.length}${leaks.length ? `\n  ${leaks.slice(0, 10).join("\n  ")}` : ""}`,
      `every run (s): ${times.map((t) => (t / 1000).toFixed(2)).join(" ")}`,
    ];
    process.stdout.write(`${lines.join("\n")}\n`);
  } finally {
    await registry.stop();
    // The soak's own images: the engine push's tarball name, and whatever a run left (reported above).
    const left = await labelledImages().catch(() => []);
    const ids = [...new Set(left.map((line) => line.split(" ")[0] ?? ""))].filter(Boolean);
    if (ids.length > 0) await exec("docker", ["image", "rm", "--force", ...ids]).catch(() => undefined);
    if (keep) say(`kept ${work.path}`);
    else await work.remove();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`soak: ${(error as Error).stack ?? error}\n`);
  process.exitCode = 1;
});
