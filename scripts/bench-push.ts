/**
 * Push benchmark (issues 5 and 13): one generated image tarball (two layers of 210 MB of random data),
 * pushed on this machine by
 *   - buildx-step (registry API, `buildx-step push`) as published (the bundle), and, with --only, as tsc's
 *     output (`tsc`, how it ran before the bundle) and as the single executable (`sea`),
 *   - the docker CLI (`docker load` + `docker tag` + `docker push`),
 *   - skopeo (`skopeo copy docker-archive:... docker://...`),
 *   - a raw upload of the same blobs by curl (POST + PUT per blob, in parallel, then the manifest),
 *   - the engine path of buildx-step (`--via daemon`), when this build has it,
 *   - crane (scripts/build-crane.sh), from the tarball (it gzips the uncompressed layers) and from the
 *     tarball's OCI layout unpacked (blobs as they are),
 * each into a new, empty registry with its own storage folder: a registry that already holds the blobs
 * (in any repository) lets a client skip or mount them, and the figure then measures nothing. skopeo's
 * blob-info cache (/var/lib/containers/cache) is cleared before its run for the same reason.
 * Then: a second push of the image the registry already has (time beyond Node's start), and the peak
 * RSS of buildx-step pushing a 1 GiB tarball.
 *
 * Times are medians of the rounds (default 7); for the pushers that are one process, the median CPU time
 * (user + sys, by GNU time) too.
 * Run: `npm run bench:push` (options: --layer-mb N, --big-mb N, --rounds N, --only
 * buildx-step,tsc,sea,daemon,docker,skopeo,curl,crane,crane-layout,rss, --keep).
 * Not part of `npm test`.
 */
import { execFile, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { cliPath } from "../test/helpers/cli.js";
import { type BenchImage, type Blob, generateImage, MB } from "../test/helpers/random-tarball.js";
import { type RegistryServer, startRegistry } from "../test/helpers/registry.js";
import { tempDir } from "../test/helpers/tmp.js";

const exec = promisify(execFile);
/** The CPU seconds (user + system) of the last command {@link timed} ran, by GNU time. */
let lastCpu = 0;

/**
 * Runs a command, returns its wall-clock seconds and leaves its CPU time (user + sys, children included)
 * in {@link lastCpu}; throws with its stderr when it fails.
 */
async function timed(command: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const cpuFile = join(tmpdir(), `buildx-step-bench-cpu-${process.pid}`);
  const started = process.hrtime.bigint();
  try {
    await exec("/usr/bin/time", ["-o", cpuFile, "-f", "%U %S", command, ...args], {
      env,
      maxBuffer: 64 * 1024 * 1024,
    });
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr ?? "";
    throw new Error(`${command} ${args.join(" ")} failed: ${stderr.trim().split("\n").slice(-5).join("\n")}`);
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const [user, sys] =
    (await readFile(cpuFile, "utf8")).trim().split("\n").pop()?.split(" ").map(Number) ?? [];
  lastCpu = (user ?? 0) + (sys ?? 0);
  return seconds;
}

/** A new, empty registry for one run, removed afterwards (its storage too). */
async function withRegistry<T>(run: (registry: RegistryServer) => Promise<T>): Promise<T> {
  const registry = await startRegistry();
  try {
    return await run(registry);
  } finally {
    await registry.stop();
  }
}

async function servedDigest(
  registry: RegistryServer,
  repository: string,
  tag: string,
): Promise<string | undefined> {
  const response = await fetch(`${registry.url}/v2/${repository}/manifests/${tag}`, {
    method: "HEAD",
    headers: {
      accept:
        "application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json",
    },
  });
  return response.headers.get("docker-content-digest") ?? undefined;
}

// -- The pushers. Each gets a new registry and returns seconds.

/** How buildx-step runs: the published bin (the bundle), tsc's output, or the single executable. */
const buildxStepForms: Record<string, string[]> = {
  bundle: [process.execPath, cliPath],
  tsc: [process.execPath, join(cliPath, "..", "..", "bin", "buildx-step.js")],
  sea: [
    join(cliPath, "..", "..", "sea", `buildx-step-linux-${process.arch === "x64" ? "amd64" : process.arch}`),
  ],
};

async function pushBuildxStep(image: BenchImage, registry: RegistryServer, form = "bundle"): Promise<number> {
  const [file, ...prefix] = buildxStepForms[form] as string[];
  return timed(file as string, [
    ...prefix,
    "push",
    image.tarball,
    "--repo",
    `${registry.host}/bench/app`,
    "--tag",
    "1",
    "--quiet",
  ]);
}

/** The engine path of buildx-step (`PLUGIN_PUSH_VIA=daemon`, lib/modes/push-daemon.ts). */
async function pushBuildxStepViaDaemon(image: BenchImage, registry: RegistryServer): Promise<number> {
  const seconds = await timed(process.execPath, [
    cliPath,
    "push",
    image.tarball,
    "--repo",
    `${registry.host}/bench/daemon`,
    "--tag",
    "1",
    "--via",
    "daemon",
    "--quiet",
  ]);
  // The run removes the names it gave (the CLI baseline's `rmi` is outside its timing): this is only a
  // safety net for a failed run.
  await exec("docker", ["rmi", "-f", `${registry.host}/bench/daemon:1`, image.name]).catch(() => undefined);
  // The default engine keeps images in the containerd store, which pushes the loaded blobs as they are.
  const served = await servedDigest(registry, "bench/daemon", "1");
  if (served !== image.manifest.digest) {
    throw new Error(`the registry serves ${served}, not the tarball's ${image.manifest.digest}`);
  }
  return seconds;
}

async function pushDockerCli(image: BenchImage, registry: RegistryServer): Promise<number> {
  const target = `${registry.host}/bench/app:1`;
  await exec("docker", ["rmi", "-f", image.name, target]).catch(() => undefined);
  try {
    const load = await timed("docker", ["load", "-q", "-i", image.tarball]);
    const tag = await timed("docker", ["tag", image.name, target]);
    const push = await timed("docker", ["push", "-q", target]);
    return load + tag + push;
  } finally {
    await exec("docker", ["rmi", "-f", image.name, target]).catch(() => undefined);
  }
}

async function pushSkopeo(image: BenchImage, registry: RegistryServer): Promise<number> {
  // Its blob-info cache would let it skip blobs it has "seen" in another registry run.
  await rm("/var/lib/containers/cache", { recursive: true, force: true });
  return timed("skopeo", [
    "copy",
    "--quiet",
    // Keep the layers as they are (it would otherwise gzip them: other bytes, another digest).
    "--preserve-digests",
    "--dest-tls-verify=false",
    `docker-archive:${image.tarball}`,
    `docker://${registry.host}/bench/app:1`,
  ]);
}

/**
 * crane (scripts/build-crane.sh) from the tarball: it reads the docker-archive manifest and, as the layers
 * are not compressed, gzips them on the way (other bytes, another digest: only its time is comparable).
 */
async function pushCrane(crane: string, image: BenchImage, registry: RegistryServer): Promise<number> {
  return timed(crane, ["push", "--insecure", image.tarball, `${registry.host}/bench/crane:1`]);
}

/** crane from the tarball's OCI layout, unpacked beforehand: blobs sent as they are, without hashing. */
async function pushCraneLayout(crane: string, layout: string, registry: RegistryServer): Promise<number> {
  return timed(crane, ["push", "--insecure", layout, `${registry.host}/bench/crane-layout:1`]);
}

/** The floor: the same blobs (already separate files) PUT by curl, all at once, then the manifest. */
async function pushCurl(image: BenchImage, registry: RegistryServer, dir: string): Promise<number> {
  await writeFile(join(dir, "config.json"), image.config.bytes as Buffer);
  await writeFile(join(dir, "manifest.json"), image.manifest.bytes as Buffer);
  const blobs = [...image.layers, { ...image.config, file: join(dir, "config.json") }];
  const base = `${registry.url}/v2/bench/app`;
  const upload = (blob: Blob) =>
    [
      `( loc=$(curl -sf -X POST -o /dev/null -D - '${base}/blobs/uploads/' | tr -d '\\r' | sed -n 's/^[Ll]ocation: //p')`,
      `&& curl -sf -o /dev/null -X PUT -H 'Expect:' -H 'Content-Type: application/octet-stream' -T '${blob.file}' "$loc&digest=${blob.digest}" ) &`,
    ].join(" ");
  const script = [
    "set -e",
    ...blobs.map(upload),
    "wait",
    `curl -sf -o /dev/null -X PUT -H 'Content-Type: ${image.manifest.mediaType}' --data-binary @${join(dir, "manifest.json")} '${base}/manifests/1'`,
  ].join("\n");
  const seconds = await timed("bash", ["-c", script]);
  const served = await servedDigest(registry, "bench/app", "1");
  if (served !== image.manifest.digest) throw new Error(`curl upload: the registry serves ${served}`);
  return seconds;
}

/** Node's own start: what "beyond Node's start" subtracts (median of five). */
async function nodeStart(): Promise<number> {
  const runs: number[] = [];
  for (let i = 0; i < 5; i++) runs.push(await timed(process.execPath, ["-e", "0"]));
  return median(runs);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** Peak RSS (MB) of buildx-step pushing `image`, by GNU time's maximum resident set size. */
async function peakRss(
  image: BenchImage,
  registry: RegistryServer,
): Promise<{ seconds: number; rssMb: number }> {
  const started = process.hrtime.bigint();
  const child = spawn(
    "/usr/bin/time",
    [
      "-f",
      "MAXRSS_KB=%M",
      process.execPath,
      cliPath,
      "push",
      image.tarball,
      "--repo",
      `${registry.host}/bench/big`,
      "--tag",
      "1",
      "--quiet",
    ],
    { stdio: ["ignore", "ignore", "pipe"] },
  );
  let stderr = "";
  child.stderr.on("data", (d: Buffer) => {
    stderr += d.toString();
  });
  const [code] = (await once(child, "exit")) as [number];
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const kb = /MAXRSS_KB=(\d+)/.exec(stderr)?.[1];
  if (code !== 0 || !kb) throw new Error(`buildx-step push of the big tarball failed: ${stderr}`);
  return { seconds, rssMb: Number(kb) / 1024 };
}

interface Options {
  layerMb: number;
  bigMb: number;
  only?: Set<string>;
  keep: boolean;
  rounds: number;
}

function parseArgs(argv: string[]): Options {
  const options: Options = { layerMb: 210, bigMb: 1024, keep: false, rounds: 7 };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--layer-mb") options.layerMb = Number(argv[++i]);
    else if (arg === "--big-mb") options.bigMb = Number(argv[++i]);
    else if (arg === "--only") options.only = new Set((argv[++i] ?? "").split(","));
    else if (arg === "--keep") options.keep = true;
    else if (arg === "--rounds") options.rounds = Math.max(1, Number(argv[++i]));
    else
      throw new Error(
        `unknown option ${arg} (options: --layer-mb N, --big-mb N, --only a,b, --rounds N, --keep)`,
      );
  }
  return options;
}

async function main() {
  const options = parseArgs(process.argv.slice(2));
  const wanted = (name: string) => !options.only || options.only.has(name);
  const work = await tempDir("buildx-step-bench-");
  const say = (line: string) => process.stderr.write(`bench: ${line}\n`);
  try {
    say(`generating a tarball with two layers of ${options.layerMb} MB of random data`);
    const name = `buildx-step-bench/app-${Date.now()}:latest`;
    const image = await generateImage(
      join(work.path, "image"),
      [options.layerMb * MB, options.layerMb * MB],
      name,
    );
    const size = (await stat(image.tarball)).size;
    say(`${image.tarball}: ${(size / MB).toFixed(0)} MB, image ${image.manifest.digest}`);

    const results = new Map<string, number | string>();
    const all = new Map<string, number[]>();
    const cpus = new Map<string, number[]>();
    /** Runs one pusher into a new registry; `cpu`: its CPU time counts (one process does the push). */
    const run = async (
      label: string,
      key: string,
      pusher: (registry: RegistryServer) => Promise<number>,
      cpu = false,
    ) => {
      if (!wanted(key)) return;
      say(`${label} ...`);
      try {
        const seconds = await withRegistry(pusher);
        all.set(label, [...(all.get(label) ?? []), seconds]);
        if (cpu) cpus.set(label, [...(cpus.get(label) ?? []), lastCpu]);
        results.set(label, median(all.get(label) ?? []));
        say(`${label}: ${seconds.toFixed(2)} s${cpu ? `, CPU ${lastCpu.toFixed(2)} s` : ""}`);
      } catch (error) {
        if (!all.has(label)) results.set(label, `failed: ${(error as Error).message.split("\n")[0]}`);
        say(`${label}: ${(error as Error).message}`);
      }
    };

    let crane: string | undefined;
    let layout: string | undefined;
    if (wanted("crane") || wanted("crane-layout")) {
      say("crane: scripts/build-crane.sh (a few minutes the first time)");
      const script = join(cliPath, "..", "..", "..", "scripts", "build-crane.sh");
      crane = (await exec("bash", [script], { maxBuffer: 1 << 24 })).stdout.trim();
      layout = join(work.path, "layout");
      await mkdir(layout, { recursive: true });
      await exec("tar", ["-xf", image.tarball, "-C", layout]);
    }

    const seconds: number[] = [];
    // Rounds alternate the pushers, so that a burst of other load does not fall on one of them only.
    for (let round = 1; round <= options.rounds; round++) {
      if (options.rounds > 1) say(`round ${round} of ${options.rounds}`);
      await run(
        "buildx-step push",
        "buildx-step",
        async (registry) => {
          const first = await pushBuildxStep(image, registry);
          const cpu = lastCpu;
          const served = await servedDigest(registry, "bench/app", "1");
          if (served !== image.manifest.digest) throw new Error(`the registry serves ${served}`);
          // The second push: everything is there already.
          seconds.push(await pushBuildxStep(image, registry));
          lastCpu = cpu;
          return first;
        },
        true,
      );
      await run(
        "buildx-step push (tsc output)",
        "tsc",
        (registry) => pushBuildxStep(image, registry, "tsc"),
        true,
      );
      await run(
        "buildx-step push (executable)",
        "sea",
        (registry) => pushBuildxStep(image, registry, "sea"),
        true,
      );
      await run("buildx-step push --via daemon", "daemon", (registry) =>
        pushBuildxStepViaDaemon(image, registry),
      );
      await run("docker load + tag + push", "docker", (registry) => pushDockerCli(image, registry));
      await run("skopeo copy", "skopeo", (registry) => pushSkopeo(image, registry), true);
      await run("curl (raw blob upload)", "curl", (registry) => pushCurl(image, registry, work.path));
      if (crane) {
        await run(
          "crane push (tarball, gzips)",
          "crane",
          (registry) => pushCrane(crane as string, image, registry),
          true,
        );
        await run(
          "crane push (OCI layout dir)",
          "crane-layout",
          (registry) => pushCraneLayout(crane as string, layout as string, registry),
          true,
        );
      }
    }
    const secondPush = seconds.length > 0 ? median(seconds) : undefined;

    const start = await nodeStart();
    let big: { seconds: number; rssMb: number } | undefined;
    if (wanted("rss")) {
      await rm(join(work.path, "image"), { recursive: true, force: true });
      say(`generating a ${options.bigMb} MiB tarball for the memory figure`);
      const half = Math.floor((options.bigMb * 1024 * 1024) / 2);
      const bigImage = await generateImage(
        join(work.path, "big"),
        [half, half],
        `buildx-step-bench/big-${Date.now()}:latest`,
      );
      big = await withRegistry((registry) => peakRss(bigImage, registry));
    }

    // -- The table.
    const ours = results.get("buildx-step push");
    const lines = [
      "",
      `push of ${(size / MB).toFixed(0)} MB (two layers of ${options.layerMb} MB), each into a new registry:`,
      "",
    ];
    lines.push(
      `${"pusher".padEnd(32)} ${"median s".padStart(8)} ${"CPU s".padStart(6)}   ${"buildx-step / this".padEnd(20)} every round (s)`,
    );
    for (const [label, value] of results) {
      const ratio =
        typeof value === "number" && typeof ours === "number" ? `${(ours / value).toFixed(2)}x` : "";
      const rounds = (all.get(label) ?? []).map((t) => t.toFixed(2)).join(", ");
      const cpu = cpus.has(label) ? median(cpus.get(label) ?? []).toFixed(2) : "";
      lines.push(
        `${label.padEnd(32)} ${(typeof value === "number" ? value.toFixed(2) : value).padStart(8)} ${cpu.padStart(6)}   ${ratio.padEnd(20)} ${rounds}`,
      );
    }
    const ourCpu = cpus.get("buildx-step push");
    if (ourCpu) {
      const cpu = median(ourCpu);
      lines.push(
        "",
        `client CPU (user+sys) of buildx-step's cold push: ${cpu.toFixed(2)} s, every round ${ourCpu.map((c) => c.toFixed(2)).join(", ")} (target <= 0.60 s) ${cpu <= 0.6 ? "met" : "MISSED"}`,
      );
    }
    const daemon = results.get("buildx-step push --via daemon");
    const cli = results.get("docker load + tag + push");
    if (typeof daemon === "number" && typeof cli === "number") {
      lines.push(
        `engine path vs docker load + tag + push: ${(daemon / cli).toFixed(2)}x (target <= 1.00x) ${daemon <= cli ? "met" : "MISSED"}`,
      );
    }
    lines.push("");
    const target = (label: string, limit: number) => {
      const value = results.get(label);
      if (typeof value !== "number" || typeof ours !== "number") return `${label}: n/a`;
      const ratio = ours / value;
      return `vs ${label}: ${ratio.toFixed(2)}x (target <= ${limit}x) ${ratio <= limit ? "met" : "MISSED"}`;
    };
    lines.push(
      target("docker load + tag + push", 0.35),
      target("skopeo copy", 0.6),
      target("curl (raw blob upload)", 1.3),
    );
    if (secondPush !== undefined) {
      const beyond = secondPush - start;
      lines.push(
        `second push (registry has it): ${secondPush.toFixed(2)} s, node start ${start.toFixed(2)} s, beyond start ${beyond.toFixed(2)} s (target < 0.5 s) ${beyond < 0.5 ? "met" : "MISSED"}`,
      );
    }
    if (big) {
      lines.push(
        `peak RSS pushing ${options.bigMb} MiB: ${big.rssMb.toFixed(0)} MB in ${big.seconds.toFixed(2)} s (target <= 150 MB) ${big.rssMb <= 150 ? "met" : "MISSED"}`,
      );
    }
    process.stdout.write(`${lines.join("\n")}\n`);
  } finally {
    if (options.keep) say(`kept ${work.path}`);
    else await work.remove();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench: ${(error as Error).stack ?? error}\n`);
  process.exitCode = 1;
});
