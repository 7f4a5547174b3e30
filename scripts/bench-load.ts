/**
 * Load benchmark (issue 16): pushes as a busy CI fleet makes them, many at once into one registry,
 * by buildx-step and by `skopeo copy` run the same way.
 *
 * Three tarballs of 420 MB share most of their layers, as images built on one base do: 200 MB, 100 MB
 * and eight of 2 MB are shared; 100 MB and two of 2 MB are each one's own. The small layers (one request
 * each) are the many short uploads that end at about the same moment in every push. Cases, each
 * `--concurrency` pushes started at once, for `--rounds` rounds, every round into a new, empty registry
 * (a registry that has the blobs lets every pusher skip them, and nothing races):
 *   - same:   the same tarball into one repository, a tag per push (the case that failed: issue 16);
 *   - shared: the three tarballs into one repository, a tag per push;
 *   - across: the three tarballs into a repository per push.
 * A push fails when it exits non-zero or its tag does not serve the image afterwards: for buildx-step the
 * tarball's digest; skopeo writes a manifest of its own (docker schema 2, from manifest.json), so for it
 * the digest its other pushes of the same tarball in the round serve. Per round: failures, time per push
 * (mean and slowest), the registry's upload sessions left open (folders of `_uploads` with data or a
 * start time: distribution keeps them until its purge, a week later), and for buildx-step the retries it
 * logged, by what was retried (a manifest write repaired is one of them).
 *
 * Run: `npm run bench:load`; options: --rounds N (5), --concurrency N (10), --cases same,shared,across,
 * --only buildx-step,skopeo, --base-mb N (200), --mid-mb N (100), --own-mb N (100), --small-layers N
 * (8 shared; each image has two of its own), --cli PATH (another build of buildx-step, e.g. the main
 * branch's dist/bin/buildx-step.js), --keep.
 * Heavy: ten pushes of 420 MB at once write 4 GB into the registry per round. Not part of `npm test`.
 */
import { spawn } from "node:child_process";
import { mkdir, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { cliPath } from "../test/helpers/cli.js";
import {
  type BenchImage,
  type Blob,
  MB,
  writeImageTarball,
  writeRandomLayer,
} from "../test/helpers/random-tarball.js";
import { type RegistryServer, startRegistry, uploadSessions } from "../test/helpers/registry.js";
import { tempDir } from "../test/helpers/tmp.js";

/** A push that has not ended after this long is killed and counted as failed. */
const PUSH_TIMEOUT_MS = 15 * 60_000;

interface Options {
  rounds: number;
  concurrency: number;
  cases: string[];
  pushers: string[];
  baseMb: number;
  midMb: number;
  ownMb: number;
  smallLayers: number;
  cli: string;
  keep: boolean;
}

function parseArgs(argv: string[]): Options {
  const options: Options = {
    rounds: 5,
    concurrency: 10,
    cases: ["same", "shared", "across"],
    pushers: ["buildx-step", "skopeo"],
    baseMb: 200,
    midMb: 100,
    ownMb: 100,
    smallLayers: 8,
    cli: cliPath,
    keep: false,
  };
  const list = (value: string | undefined) => (value ?? "").split(",").filter(Boolean);
  const setters: Record<string, (value: string | undefined) => void> = {
    "--rounds": (v) => {
      options.rounds = Math.max(1, Number(v));
    },
    "--concurrency": (v) => {
      options.concurrency = Math.max(1, Number(v));
    },
    "--cases": (v) => {
      options.cases = list(v);
    },
    "--only": (v) => {
      options.pushers = list(v);
    },
    "--base-mb": (v) => {
      options.baseMb = Number(v);
    },
    "--mid-mb": (v) => {
      options.midMb = Number(v);
    },
    "--own-mb": (v) => {
      options.ownMb = Number(v);
    },
    "--small-layers": (v) => {
      options.smallLayers = Number(v);
    },
    "--cli": (v) => {
      options.cli = String(v);
    },
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? "";
    const set = setters[arg];
    if (set) set(argv[++i]);
    else if (arg === "--keep") options.keep = true;
    else throw new Error(`unknown option ${arg} (options: ${Object.keys(setters).join(", ")}, --keep)`);
  }
  return options;
}

/** One push of the round: which tarball, where to. */
interface PushJob {
  image: BenchImage;
  repository: string;
  tag: string;
}

interface PushOutcome {
  job: PushJob;
  ok: boolean;
  seconds: number;
  /** The last lines of its output when it failed. */
  failure?: string;
  /** What buildx-step retried, one entry per "retrying ..." line: "write of manifest", "check of blob", .... */
  retries: string[];
}

interface RoundResult {
  pusher: string;
  round: number;
  outcomes: PushOutcome[];
  leftoverSessions: number;
}

function jobsFor(kind: string, images: BenchImage[], count: number): PushJob[] {
  return Array.from({ length: count }, (_, i) => {
    const image = kind === "same" ? (images[0] as BenchImage) : (images[i % images.length] as BenchImage);
    return kind === "across"
      ? { image, repository: `bench/app-${i + 1}`, tag: "1" }
      : { image, repository: "bench/app", tag: `t${i + 1}` };
  });
}

function commandFor(pusher: string, job: PushJob, registry: RegistryServer, cli: string): [string, string[]] {
  const target = `${registry.host}/${job.repository}`;
  if (pusher === "skopeo") {
    return [
      "skopeo",
      [
        "copy",
        "--quiet",
        // Keep the layers as they are (it would otherwise gzip them: other bytes, another digest).
        "--preserve-digests",
        "--dest-tls-verify=false",
        `docker-archive:${job.image.tarball}`,
        `docker://${target}:${job.tag}`,
      ],
    ];
  }
  return [process.execPath, [cli, "push", job.image.tarball, "--repo", target, "--tag", job.tag]];
}

/** Runs one push to its end (bounded), its time and output kept. */
function runPush(pusher: string, job: PushJob, registry: RegistryServer, cli: string): Promise<PushOutcome> {
  const [command, args] = commandFor(pusher, job, registry, cli);
  const started = process.hrtime.bigint();
  return new Promise((resolve) => {
    const child = spawn(command, args, {
      stdio: ["ignore", "ignore", "pipe"],
      // CI: plain progress lines, in which retries are logged.
      env: { ...process.env, CI: "true" },
    });
    let output = "";
    child.stderr.on("data", (data: Buffer) => {
      output += data.toString();
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), PUSH_TIMEOUT_MS);
    child.once("close", (code, signal) => {
      clearTimeout(timer);
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const retries = output
        .split("\n")
        .flatMap((line) => /\bretrying (\w+ of \w+)/.exec(line)?.[1] ?? [])
        .filter(Boolean);
      const ok = code === 0;
      resolve({
        job,
        ok,
        seconds,
        retries,
        failure: ok
          ? undefined
          : `exit ${code ?? signal}: ${output.trim().split("\n").slice(-2).join(" | ").slice(0, 600)}`,
      });
    });
  });
}

async function servedDigest(registry: RegistryServer, job: PushJob): Promise<string | undefined> {
  const response = await fetch(`${registry.url}/v2/${job.repository}/manifests/${job.tag}`, {
    method: "HEAD",
    headers: {
      accept:
        "application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json",
    },
  });
  return response.headers.get("docker-content-digest") ?? undefined;
}

/** The digest most pushes of `image` serve (skopeo's own manifest for the tarball). */
function mostServed(served: Map<PushOutcome, string | undefined>, image: BenchImage): string | undefined {
  const counts = new Map<string, number>();
  for (const [outcome, digest] of served) {
    if (outcome.job.image === image && digest) counts.set(digest, (counts.get(digest) ?? 0) + 1);
  }
  return [...counts].sort((a, b) => b[1] - a[1])[0]?.[0];
}

async function runRound(
  pusher: string,
  round: number,
  jobs: PushJob[],
  cli: string,
  say: (line: string) => void,
): Promise<RoundResult> {
  const registry = await startRegistry();
  try {
    // skopeo's blob-info cache would let it skip or mount blobs it saw in an earlier round's registry.
    if (pusher === "skopeo") await rm("/var/lib/containers/cache", { recursive: true, force: true });
    const outcomes = await Promise.all(jobs.map((job) => runPush(pusher, job, registry, cli)));
    const served = new Map<PushOutcome, string | undefined>();
    for (const outcome of outcomes)
      if (outcome.ok) served.set(outcome, await servedDigest(registry, outcome.job));
    for (const [outcome, digest] of served) {
      const expected =
        pusher === "skopeo" ? mostServed(served, outcome.job.image) : outcome.job.image.manifest.digest;
      if (digest === undefined || digest !== expected) {
        outcome.ok = false;
        outcome.failure = `exit 0, but ${outcome.job.repository}:${outcome.job.tag} serves ${digest ?? "nothing"}, not ${expected}`;
      }
    }
    const leftoverSessions = (await uploadSessions(registry.storage)).length;
    const failed = outcomes.filter((o) => !o.ok);
    say(
      `${pusher} round ${round}: ${failed.length} of ${outcomes.length} failed, leftover sessions ${leftoverSessions}`,
    );
    for (const outcome of failed) say(`  ${outcome.job.repository}:${outcome.job.tag}: ${outcome.failure}`);
    return { pusher, round, outcomes, leftoverSessions };
  } finally {
    await registry.stop();
  }
}

const mean = (values: number[]) => (values.length ? values.reduce((a, b) => a + b, 0) / values.length : 0);

function table(kind: string, results: RoundResult[], options: Options): string[] {
  const titles: Record<string, string> = {
    same: "the same tarball, one repository, a tag per push",
    shared: "three tarballs sharing most layers, one repository, a tag per push",
    across: "three tarballs sharing most layers, a repository per push",
  };
  const lines = [
    "",
    `${kind}: ${titles[kind] ?? kind} (${options.concurrency} at a time, each round a new registry)`,
    `${"pusher".padEnd(12)} ${"round".padStart(5)} ${"failed".padStart(7)} ${"mean s".padStart(7)} ${"max s".padStart(7)} ${"leftover".padStart(9)} ${"retries".padStart(8)}`,
  ];
  for (const result of results) {
    const times = result.outcomes.filter((o) => o.ok).map((o) => o.seconds);
    const failed = result.outcomes.filter((o) => !o.ok).length;
    lines.push(
      `${result.pusher.padEnd(12)} ${String(result.round).padStart(5)} ${`${failed}/${result.outcomes.length}`.padStart(7)} ${mean(times).toFixed(1).padStart(7)} ${(times.length ? Math.max(...times) : 0).toFixed(1).padStart(7)} ${String(result.leftoverSessions).padStart(9)} ${(result.pusher === "skopeo" ? "-" : String(result.outcomes.reduce((sum, o) => sum + o.retries.length, 0))).padStart(8)}`,
    );
  }
  for (const pusher of options.pushers) {
    const mine = results.filter((r) => r.pusher === pusher);
    const outcomes = mine.flatMap((r) => r.outcomes);
    const failed = outcomes.filter((o) => !o.ok).length;
    const times = outcomes.filter((o) => o.ok).map((o) => o.seconds);
    const retried = new Map<string, number>();
    for (const what of outcomes.flatMap((o) => o.retries)) retried.set(what, (retried.get(what) ?? 0) + 1);
    const retries = [...retried].map(([what, count]) => `${what} ${count}`).join(", ");
    lines.push(
      `${pusher.padEnd(12)} total: ${failed} of ${outcomes.length} failed, ${mean(times).toFixed(1)} s per push (mean), leftover sessions ${mine.reduce((sum, r) => sum + r.leftoverSessions, 0)}${retries ? `; retried: ${retries}` : ""}`,
    );
  }
  return lines;
}

async function main() {
  const options = parseArgs(process.argv.slice(2));
  const work = await tempDir("buildx-step-bench-load-");
  const say = (line: string) => process.stderr.write(`bench: ${line}\n`);
  try {
    const small = 2 * MB;
    const total =
      options.baseMb * MB + options.midMb * MB + options.ownMb * MB + (options.smallLayers + 2) * small;
    say(
      `generating three tarballs of ${(total / MB).toFixed(0)} MB that share ${options.baseMb + options.midMb + options.smallLayers * 2} MB`,
    );
    const layers = join(work.path, "layers");
    await mkdir(layers, { recursive: true });
    let index = 0;
    const layer = (name: string, size: number) =>
      writeRandomLayer(join(layers, `${name}.tar`), size, index++);
    const shared: Blob[] = [await layer("base", options.baseMb * MB), await layer("mid", options.midMb * MB)];
    for (let i = 0; i < options.smallLayers; i++) shared.push(await layer(`small-${i}`, small));
    const images: BenchImage[] = [];
    for (let i = 0; i < 3; i++) {
      const own = [
        await layer(`own-${i}`, options.ownMb * MB),
        await layer(`own-${i}-a`, small),
        await layer(`own-${i}-b`, small),
      ];
      images.push(
        await writeImageTarball(
          join(work.path, `image-${i}`),
          [...shared, ...own],
          `bench-load/app-${i}:latest`,
        ),
      );
    }
    // The layer files are in the tarballs now.
    await rm(layers, { recursive: true, force: true });
    for (const image of images) {
      say(
        `${image.tarball}: ${((await stat(image.tarball)).size / MB).toFixed(0)} MB, ${image.manifest.digest}`,
      );
    }
    if (options.cli !== cliPath) say(`buildx-step is ${options.cli}`);

    const report: string[] = [];
    for (const kind of options.cases) {
      const jobs = jobsFor(kind, images, options.concurrency);
      const results: RoundResult[] = [];
      // Rounds alternate the pushers, so that a burst of other load does not fall on one of them only.
      for (let round = 1; round <= options.rounds; round++) {
        for (const pusher of options.pushers) {
          say(`${kind}: ${pusher} round ${round} of ${options.rounds}`);
          results.push(await runRound(pusher, round, jobs, options.cli, say));
        }
      }
      report.push(...table(kind, results, options));
      process.stdout.write(`${table(kind, results, options).join("\n")}\n`);
    }
    say("done");
    if (options.cases.length > 1) process.stdout.write(`\nall cases:${report.join("\n")}\n`);
  } finally {
    if (options.keep) say(`kept ${work.path}`);
    else await work.remove();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench: ${(error as Error).stack ?? error}\n`);
  process.exitCode = 1;
});
