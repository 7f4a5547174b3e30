/**
 * Start-up benchmark (issue 13): the time of small runs, where start-up dominates, for each form buildx-step
 * ships in, side by side in one run and in alternating order, with `node -e 0` (Node's own start) and crane
 * (go-containerregistry's CLI, built by scripts/build-crane.sh) as baselines:
 *   tsc      node dist/bin/buildx-step.js      (tsc's output, how it ran before the bundle)
 *   bundle   node dist/bundle/buildx-step.cjs  (the npm package's bin, its compile cache made by the first runs)
 *   uncached the same with BUILDX_STEP_COMPILE_CACHE=off (a first run, or a home thrown away after each job)
 *   sea      dist/sea/buildx-step-linux-ARCH   (the single executable)
 * Scenarios: --version; config (plugin settings from the environment); inspect of a 1 MB tarball; push of a
 * 1 MB image the registry does not have (cold: every push gets an image of new random bytes); push of an
 * image the registry already holds (held: the same tarball again).
 * Each figure is the median of --rounds runs (default 11); every round runs every form once per scenario,
 * in an order rotated each round, so that other load on the machine falls on all of them alike.
 *   npm run bench:startup   (options: --rounds N, --only version,config,inspect,push,held, --no-crane,
 *                            --json FILE, --form NAME=FILE to add another build side by side)
 */
import { execFile, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { type BenchImage, generateImage } from "../test/helpers/random-tarball.js";
import { startRegistry } from "../test/helpers/registry.js";
import { tempDir } from "../test/helpers/tmp.js";

const exec = promisify(execFile);
const root = fileURLToPath(new URL("../..", import.meta.url));
const MB = 1_000_000;
const arch = process.arch === "x64" ? "amd64" : process.arch;

interface Form {
  name: string;
  /** The command line that runs buildx-step (or the baseline) with `args`. */
  command: (args: string[]) => [string, string[]];
  /** Variables the form runs with, besides PATH and HOME. */
  env?: () => NodeJS.ProcessEnv;
}

/** The bundle's compile cache for this benchmark (lib/compile-cache.ts): empty at the start, made by the first runs. */
let compileCache = "";

const forms: Form[] = [
  {
    name: "tsc",
    command: (args) => [process.execPath, [join(root, "dist", "bin", "buildx-step.js"), ...args]],
  },
  {
    name: "bundle",
    command: (args) => [process.execPath, [join(root, "dist", "bundle", "buildx-step.cjs"), ...args]],
    env: () => ({ BUILDX_STEP_COMPILE_CACHE: compileCache }),
  },
  {
    // A first run on a new machine (or a runner whose home is thrown away after each job).
    name: "uncached",
    command: (args) => [process.execPath, [join(root, "dist", "bundle", "buildx-step.cjs"), ...args]],
    env: () => ({ BUILDX_STEP_COMPILE_CACHE: "off" }),
  },
  { name: "sea", command: (args) => [join(root, "dist", "sea", `buildx-step-linux-${arch}`), args] },
];

interface Scenario {
  name: string;
  /** The arguments for run `n` of a form, or undefined when that form has no such run (crane). */
  args: (form: string, n: number) => string[] | undefined;
  env?: NodeJS.ProcessEnv;
  /** The most it may take beyond `node -e 0` through the bundle (ms), by the targets. */
  target: number;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** Runs one command to its end; returns its wall time in ms. A failure stops the benchmark. */
function timed(file: string, args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(file, args, { env, stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (data: Buffer) => {
      stderr += data.toString();
    });
    child.on("error", reject);
    child.on("exit", (code) => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      if (code === 0) resolve(ms);
      else reject(new Error(`${file} ${args.join(" ")} exited ${code}: ${stderr.trim().slice(-1000)}`));
    });
  });
}

interface Options {
  rounds: number;
  only?: Set<string>;
  crane: boolean;
  json?: string;
}

/**
 * `--form NAME=FILE`: another build to compare side by side (another bundler's output, an experiment):
 * a .js/.mjs file runs with this Node, anything else as an executable.
 */
function extraForm(spec: string): Form {
  const at = spec.indexOf("=");
  if (at <= 0) throw new Error(`--form wants NAME=FILE, not ${spec}`);
  const name = spec.slice(0, at);
  const file = spec.slice(at + 1);
  return /\.[mc]?js$/.test(file)
    ? { name, command: (args) => [process.execPath, [file, ...args]] }
    : { name, command: (args) => [file, args] };
}

function parseArgs(argv: string[]): Options {
  const options: Options = { rounds: 11, crane: true };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--rounds") options.rounds = Math.max(1, Number(argv[++i]));
    else if (arg === "--only") options.only = new Set((argv[++i] ?? "").split(","));
    else if (arg === "--no-crane") options.crane = false;
    else if (arg === "--json") options.json = argv[++i];
    else if (arg === "--form") forms.push(extraForm(argv[++i] ?? ""));
    else
      throw new Error(
        `unknown option ${arg} (options: --rounds N, --only a,b, --no-crane, --json FILE, --form NAME=FILE)`,
      );
  }
  return options;
}

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2));
  const say = (line: string) => process.stderr.write(`bench: ${line}\n`);
  // A form is there when its file is: the script for the Node forms, the executable for the SEA.
  const fileOf = (form: Form) => {
    const [file, args] = form.command([]);
    return file === process.execPath ? (args[0] as string) : file;
  };
  const present = forms.filter((form) => existsSync(fileOf(form)));
  for (const form of forms) if (!present.includes(form)) say(`${form.name}: not built, left out`);
  let crane: string | undefined;
  if (options.crane) {
    say("crane: scripts/build-crane.sh (a few minutes the first time)");
    crane = (
      await exec("bash", [join(root, "scripts", "build-crane.sh")], { maxBuffer: 1 << 24 })
    ).stdout.trim();
  }

  const work = await tempDir("buildx-step-bench-startup-");
  compileCache = join(work.path, "compile-cache");
  const registry = await startRegistry();
  try {
    const pushers = [...present.map((f) => f.name), ...(crane ? ["crane"] : [])];
    say(
      `generating 1 MB images: one to inspect and re-push, and one per push for ${pushers.length} pushers x ${options.rounds} rounds`,
    );
    const small = await generateImage(join(work.path, "small"), [MB], "bench/small:latest");
    const cold = new Map<string, BenchImage>();
    for (const pusher of pushers) {
      for (let n = 0; n < options.rounds; n++) {
        cold.set(
          `${pusher}/${n}`,
          await generateImage(join(work.path, `${pusher}-${n}`), [MB], `bench/${pusher}:${n}`),
        );
      }
    }
    const repo = (form: string) => `${registry.host}/bench/${form}`;
    const pushArgs = (form: string, tarball: string, tag: string): string[] =>
      form === "crane"
        ? ["push", "--insecure", tarball, `${repo(form)}:${tag}`]
        : ["push", tarball, "--repo", repo(form), "--tag", tag, "--quiet"];
    const every: Scenario[] = [
      { name: "version", args: (form) => (form === "crane" ? undefined : ["--version"]), target: 40 },
      {
        name: "config",
        args: (form) => (form === "crane" ? undefined : ["config"]),
        env: { PLUGIN_REPO: `${registry.host}/bench/app`, PLUGIN_TAGS: "1,latest", PLUGIN_DRY_RUN: "true" },
        target: 40,
      },
      {
        name: "inspect",
        args: (form) => (form === "crane" ? undefined : ["inspect", small.tarball]),
        target: 40,
      },
      {
        name: "push",
        args: (form, n) => pushArgs(form, (cold.get(`${form}/${n}`) as BenchImage).tarball, String(n)),
        target: 60,
      },
      { name: "held", args: (form) => pushArgs(form, small.tarball, "held"), target: 50 },
    ];
    const scenarios = every.filter((s) => !options.only || options.only.has(s.name));

    // The held image is pushed once by every pusher before the rounds: from then on the registry has it.
    for (const pusher of pushers) {
      const [file, args] = commandFor(pusher, pushArgs(pusher, small.tarball, "held"), crane);
      await timed(file, args, { ...baseEnv(), ...envFor(pusher) });
    }

    const samples = new Map<string, number[]>();
    const add = (key: string, ms: number) => samples.set(key, [...(samples.get(key) ?? []), ms]);
    const all = ["node", ...pushers];
    for (let round = 0; round < options.rounds; round++) {
      say(`round ${round + 1} of ${options.rounds}`);
      // Rotate the order, so that no form always runs first (or right after another).
      const order = all.map((_, i) => all[(i + round) % all.length] as string);
      for (const scenario of scenarios) {
        for (const form of order) {
          if (form === "node") {
            add(`${scenario.name}/node`, await timed(process.execPath, ["-e", "0"], baseEnv()));
            continue;
          }
          const args = scenario.args(form, round);
          if (!args) continue;
          const [file, argv] = commandFor(form, args, crane);
          add(
            `${scenario.name}/${form}`,
            await timed(file, argv, { ...baseEnv(), ...envFor(form), ...scenario.env }),
          );
        }
      }
    }

    const lines = [
      "",
      `start-up: median ms of ${options.rounds} alternating rounds (node ${process.version}, ${arch})`,
      "",
      `| scenario | node -e 0 | ${all.slice(1).join(" | ")} | bundle - node | uncached - node | target | met |`,
      `|---|---:|${all
        .slice(1)
        .map(() => "---:")
        .join("|")}|---:|---:|---:|---|`,
    ];
    const result: Record<string, Record<string, number>> = {};
    for (const scenario of scenarios) {
      const cell = (form: string) => {
        const values = samples.get(`${scenario.name}/${form}`);
        return values ? median(values) : undefined;
      };
      result[scenario.name] = Object.fromEntries(
        all.flatMap((form) => (cell(form) === undefined ? [] : [[form, cell(form) as number]])),
      );
      const node = cell("node") as number;
      const bundle = cell("bundle");
      const beyond = bundle === undefined ? undefined : bundle - node;
      const uncached = cell("uncached");
      const plus = (ms: number | undefined) => (ms === undefined ? "-" : `+${ms.toFixed(0)}`);
      lines.push(
        `| ${scenario.name} | ${node.toFixed(0)} | ${all
          .slice(1)
          .map((form) => cell(form)?.toFixed(0) ?? "-")
          .join(
            " | ",
          )} | ${plus(beyond)} | ${plus(uncached === undefined ? undefined : uncached - node)} | +${scenario.target} | ${
          beyond === undefined ? "-" : beyond <= scenario.target ? "yes" : "NO"
        } |`,
      );
    }
    process.stdout.write(`${lines.join("\n")}\n`);
    if (options.json)
      await writeFile(
        options.json,
        `${JSON.stringify({ rounds: options.rounds, result, samples: Object.fromEntries(samples) }, null, 2)}\n`,
      );
  } finally {
    await registry.stop();
    await work.remove();
  }
}

/** Only what a CI step would have: no PLUGIN_* of this shell, no BUILDX_STEP_DEBUG. */
function baseEnv(): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH, HOME: process.env.HOME };
}

function envFor(form: string): NodeJS.ProcessEnv {
  return forms.find((f) => f.name === form)?.env?.() ?? {};
}

function commandFor(form: string, args: string[], crane: string | undefined): [string, string[]] {
  if (form === "crane") return [crane as string, args];
  const found = forms.find((f) => f.name === form);
  if (!found) throw new Error(`unknown form ${form}`);
  return found.command(args);
}

main().catch((error: unknown) => {
  process.stderr.write(`bench: ${(error as Error).stack ?? error}\n`);
  process.exitCode = 1;
});
