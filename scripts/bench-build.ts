/**
 * What buildx-step adds to a build: a cached build run through `buildx-step build` and through the very
 * same `docker buildx build` command line (taken from buildx-step's own log), alternately, N times each.
 * Prints the medians, the overhead in ms and %, and whether it stays within max(5 %, 300 ms).
 *
 *   npm run bench:build            (BENCH_RUNS=10 by default; BENCH_REGISTRY=127.0.0.1:5000 for the push scenario;
 *                                   BENCH_CLI=FILE.js runs another entry instead of the bundle)
 *
 * Two scenarios: build-only to a tarball (dry run + tar, which also asks the engine for its image store)
 * and build-and-push to the local registry (every layer already there).
 */
import { execFile, spawn } from "node:child_process";
import { copyFile, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const exec = promisify(execFile);
// BENCH_CLI: another entry to measure the same way (dist/bin/buildx-step.js: tsc's output, as before the bundle).
const cli = process.env.BENCH_CLI ?? fileURLToPath(new URL("../bundle/buildx-step.cjs", import.meta.url));
const runs = Number(process.env.BENCH_RUNS ?? 10);
const registry = process.env.BENCH_REGISTRY ?? "127.0.0.1:5000";

interface Timed {
  ms: number;
  stderr: string;
}

/** Runs a command to its end and measures the wall time; a failure stops the benchmark. */
function timed(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): Promise<Timed> {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(command, args, {
      cwd,
      stdio: ["ignore", "ignore", "pipe"],
      env: { ...process.env, CI: "true", ...env },
    });
    let stderr = "";
    child.stderr.on("data", (data: Buffer) => {
      stderr += data.toString();
    });
    child.on("error", reject);
    child.on("exit", (code) => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      if (code !== 0)
        reject(new Error(`${command} ${args.join(" ")} exited ${code}:\n${stderr.slice(-2000)}`));
      else resolve({ ms, stderr });
    });
  });
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** The `docker buildx build ...` line buildx-step logged, as argv (the bench's paths have no spaces). */
function loggedBuildxArgs(stderr: string): string[] {
  const line = stderr.split("\n").find((l) => l.startsWith("+ docker buildx build "));
  if (!line) throw new Error(`buildx-step logged no buildx command:\n${stderr.slice(-2000)}`);
  if (line.includes("'")) throw new Error(`quoted arguments in the logged command: ${line}`);
  return line.slice("+ docker ".length).split(" ");
}

const CREATED = "org.opencontainers.image.created=";

/** RFC 3339 to the second, as buildx-step writes the `created` label. */
const now = () => new Date().toISOString().replace(/\.\d{3}Z$/, "Z");

/**
 * The logged argv with buildx-step's temporary paths replaced by the plain run's own, and the `created`
 * label set to the time of the run, as buildx-step would set it: the same command it would run now.
 */
function plainArgs(logged: string[], dir: string, tag = "v1"): string[] {
  return logged.map((arg, i) => {
    if (arg.endsWith("/bench/app:v1")) return arg.replace(/:v1$/, `:${tag}`);
    if (logged[i - 1] === "--metadata-file") return join(dir, "plain-metadata.json");
    if (arg.startsWith("type=docker,dest=")) return `type=docker,dest=${join(dir, "plain.tar")}`;
    if (arg.startsWith(CREATED)) return `${CREATED}${now()}`;
    return arg;
  });
}

interface Scenario {
  name: string;
  /**
   * `tag`: each run pushes a tag of its own. Pushing the same tag over and over makes the engine's own
   * push step (containerd image store) race registry 2.8, which answers a HEAD of a tag that holds an OCI
   * index with a 500 now and then; fresh tags measure the build, not that race.
   */
  args: (dir: string, tag: string) => string[];
  /** buildx-step's environment on top of this one. */
  env?: NodeJS.ProcessEnv;
}

const scenarios: Scenario[] = [
  {
    name: "dry run + tar",
    // A dry run with a tarball also loads the image into the engine (the plugin's default), which the
    // buildx command alone does not: without the load, both do the same work.
    env: { PLUGIN_BUILDX_LOAD: "false" },
    args: (dir) => [
      "build",
      "--dry-run",
      "--tar",
      join(dir, "step.tar"),
      "--repo",
      "bench/app",
      "-t",
      "v1",
      ".",
    ],
  },
  {
    name: "build and push",
    args: (_dir, tag) => ["build", "--repo", `${registry}/bench/app`, "-t", tag, "."],
  },
];

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), "buildx-step-bench-"));
  let failed = false;
  try {
    // A context with a RUN step and a 2 MB layer: a realistic small image, fully cached after the warm-up.
    await mkdir(dir, { recursive: true });
    await copyFile("/bin/busybox", join(dir, "busybox"));
    await writeFile(join(dir, "data.txt"), `bench ${Date.now()}\n`);
    await writeFile(
      join(dir, "Dockerfile"),
      'FROM scratch\nCOPY busybox /bin/busybox\nRUN ["/bin/busybox", "sh", "-c", "/bin/busybox echo built > /built.txt"]\nCOPY data.txt /data.txt\n',
    );
    const { stdout: version } = await exec("docker", ["buildx", "version"]);
    console.log(`buildx-step build overhead, ${runs} alternating runs each (${version.trim()})`);
    for (const scenario of scenarios) {
      const args = scenario.args(dir, "v1");
      // Warm the cache, and learn the exact buildx command buildx-step runs.
      const warm = await timed(process.execPath, [cli, ...args], dir, scenario.env);
      const logged = loggedBuildxArgs(warm.stderr);
      await timed("docker", plainArgs(logged, dir), dir);
      const step: number[] = [];
      const direct: number[] = [];
      for (let i = 0; i < runs; i++) {
        // Alternate which goes first, so neither always runs on a warmer machine.
        const order = i % 2 === 0 ? ["step", "plain"] : ["plain", "step"];
        for (const which of order) {
          const tag = `run${i}-${which}`;
          if (which === "step")
            step.push(
              (await timed(process.execPath, [cli, ...scenario.args(dir, tag)], dir, scenario.env)).ms,
            );
          else direct.push((await timed("docker", plainArgs(logged, dir, tag), dir)).ms);
        }
      }
      const stepMedian = median(step);
      const plainMedian = median(direct);
      const overhead = stepMedian - plainMedian;
      const percent = (overhead / plainMedian) * 100;
      const budget = Math.max(plainMedian * 0.05, 300);
      const pass = overhead <= budget;
      // The floor no Node.js program can go under: starting Node.js and exiting.
      const nodeFloor: number[] = [];
      for (let i = 0; i < 5; i++) nodeFloor.push((await timed(process.execPath, ["-e", "0"], dir)).ms);
      failed ||= !pass;
      console.log(`\n${scenario.name}`);
      console.log(`  docker ${plainArgs(logged, dir).join(" ")}`);
      console.log(
        `  plain docker buildx build  median ${plainMedian.toFixed(0)} ms  (min ${Math.min(...direct).toFixed(0)}, max ${Math.max(...direct).toFixed(0)})`,
      );
      console.log(
        `  buildx-step build          median ${stepMedian.toFixed(0)} ms  (min ${Math.min(...step).toFixed(0)}, max ${Math.max(...step).toFixed(0)})`,
      );
      console.log(
        `  overhead ${overhead.toFixed(0)} ms (${percent.toFixed(1)} %); budget max(5 %, 300 ms) = ${budget.toFixed(0)} ms: ${pass ? "PASS" : "FAIL"}`,
      );
      console.log(
        `  (starting and ending an empty Node.js process here: median ${median(nodeFloor).toFixed(0)} ms)`,
      );
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  process.exitCode = failed ? 1 : 0;
}

await main();
