/**
 * Scale of one job (issue 16.5): how time, memory and the log grow with the size of one push.
 *   - tags: one image pushed with 1, 10, 25 and 50 tags;
 *   - images: a `docker save` of 1, 5, 10 and 20 images (loaded into the engine from generated tarballs
 *     that share a base layer, saved together, removed again), from which one image is pushed, and then
 *     every image one after the other.
 * Each push goes into a new registry. Per row: wall time, peak RSS (GNU time), and the lines the push
 * wrote in CI mode (the log a pipeline shows).
 *
 * Run: `npm run bench:scale` (options: --layer-mb N (20, each image's own layer), --keep).
 * Not part of `npm test`; uses the engine (images named buildx-step-bench-scale/*, removed at the end).
 */
import { execFile, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { cliPath } from "../test/helpers/cli.js";
import { type BenchImage, MB, writeImageTarball, writeRandomLayer } from "../test/helpers/random-tarball.js";
import { type RegistryServer, startRegistry } from "../test/helpers/registry.js";
import { tempDir } from "../test/helpers/tmp.js";

const exec = promisify(execFile);

interface Measured {
  seconds: number;
  rssMb: number;
  lines: number;
}

/** Runs buildx-step with `args` under GNU time (CI mode: plain lines); fails on a non-zero exit. */
async function measure(args: string[]): Promise<Measured> {
  const started = process.hrtime.bigint();
  const child = spawn("/usr/bin/time", ["-f", "MAXRSS_KB=%M", process.execPath, cliPath, ...args], {
    stdio: ["ignore", "ignore", "pipe"],
    env: { ...process.env, CI: "true" },
  });
  let stderr = "";
  child.stderr.on("data", (d: Buffer) => {
    stderr += d.toString();
  });
  const [code] = (await once(child, "exit")) as [number];
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const kb = /MAXRSS_KB=(\d+)/.exec(stderr)?.[1];
  if (code !== 0 || !kb) throw new Error(`buildx-step ${args.join(" ")} failed: ${stderr.slice(-2000)}`);
  const lines = stderr.split("\n").filter((line) => line !== "" && !line.startsWith("MAXRSS_KB=")).length;
  return { seconds, rssMb: Number(kb) / 1024, lines };
}

async function withRegistry<T>(run: (registry: RegistryServer) => Promise<T>): Promise<T> {
  const registry = await startRegistry();
  try {
    return await run(registry);
  } finally {
    await registry.stop();
  }
}

const row = (label: string, m: Measured, extra = "") =>
  `${label.padEnd(34)} ${m.seconds.toFixed(2).padStart(7)} ${m.rssMb.toFixed(0).padStart(8)} ${String(m.lines).padStart(6)}${extra}`;
const header = `${"".padEnd(34)} ${"s".padStart(7)} ${"RSS MB".padStart(8)} ${"lines".padStart(6)}`;

async function main() {
  const argv = process.argv.slice(2);
  const layerMb = argv.includes("--layer-mb") ? Number(argv[argv.indexOf("--layer-mb") + 1]) : 20;
  const keep = argv.includes("--keep");
  const work = await tempDir("buildx-step-bench-scale-");
  const say = (line: string) => process.stderr.write(`bench: ${line}\n`);
  const names: string[] = [];
  const out: string[] = [];
  try {
    const layers = join(work.path, "layers");
    await mkdir(layers, { recursive: true });
    say(`generating 20 images: a shared 10 MB base and ${layerMb} MB of their own each`);
    const base = await writeRandomLayer(join(layers, "base.tar"), 10 * MB, 0);
    const images: BenchImage[] = [];
    for (let i = 1; i <= 20; i++) {
      const own = await writeRandomLayer(join(layers, `own-${i}.tar`), layerMb * MB, i);
      images.push(
        await writeImageTarball(
          join(work.path, `image-${i}`),
          [base, own],
          `buildx-step-bench-scale/img-${i}:latest`,
        ),
      );
    }

    // -- Tags.
    out.push("", `one image (${10 + layerMb} MB) pushed with N tags, each into a new registry:`, header);
    const tagRows: { tags: number; m: Measured }[] = [];
    for (const count of [1, 10, 25, 50]) {
      const tags = Array.from({ length: count }, (_, i) => ["--tag", `t${i + 1}`]).flat();
      const image = images[0] as BenchImage;
      const m = await withRegistry((registry) =>
        measure(["push", image.tarball, "--repo", `${registry.host}/scale/tags`, ...tags]),
      );
      tagRows.push({ tags: count, m });
      out.push(row(`${count} tag${count === 1 ? "" : "s"}`, m));
      say(out.at(-1) ?? "");
    }
    const first = tagRows[0] as { tags: number; m: Measured };
    const last = tagRows.at(-1) as { tags: number; m: Measured };
    out.push(
      `per extra tag: ${(((last.m.seconds - first.m.seconds) / (last.tags - first.tags)) * 1000).toFixed(1)} ms`,
    );

    // -- Images in one tarball (a docker save of many).
    say("loading the 20 images into the engine");
    for (const image of images) {
      await exec("docker", ["load", "-q", "-i", image.tarball]);
      names.push(image.name);
    }
    out.push("", "a docker save of N images: one image pushed, then all N one after the other:", header);
    for (const count of [1, 5, 10, 20]) {
      const saved = join(work.path, `save-${count}.tar`);
      await exec("docker", ["save", "-o", saved, ...names.slice(0, count)]);
      const lastName = names[count - 1] as string;
      const one = await withRegistry((registry) =>
        measure([
          "push",
          saved,
          "--source-image",
          lastName,
          "--repo",
          `${registry.host}/scale/one`,
          "--tag",
          "1",
        ]),
      );
      out.push(row(`${count} image${count === 1 ? "" : "s"}: push one`, one));
      say(out.at(-1) ?? "");
      const all = await withRegistry(async (registry) => {
        const total: Measured = { seconds: 0, rssMb: 0, lines: 0 };
        for (const [i, name] of names.slice(0, count).entries()) {
          const m = await measure([
            "push",
            saved,
            "--source-image",
            name,
            "--repo",
            `${registry.host}/scale/all-${i}`,
            "--tag",
            "1",
          ]);
          total.seconds += m.seconds;
          total.rssMb = Math.max(total.rssMb, m.rssMb);
          total.lines += m.lines;
        }
        return total;
      });
      out.push(
        row(
          `${count} image${count === 1 ? "" : "s"}: push all (sum)`,
          all,
          `   ${(all.seconds / count).toFixed(2)} s each`,
        ),
      );
      say(out.at(-1) ?? "");
    }
    process.stdout.write(`${out.join("\n")}\n`);
  } finally {
    if (names.length > 0) await exec("docker", ["image", "rm", ...names]).catch(() => undefined);
    if (keep) say(`kept ${work.path}`);
    else await work.remove();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench: ${(error as Error).stack ?? error}\n`);
  process.exitCode = 1;
});
