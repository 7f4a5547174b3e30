/**
 * Runs a Drone pipeline's steps here as Drone's runners run them, for the examples users copy:
 *   - exec pipelines (`type: exec`): each step's commands by `sh -e -c` on this host, with the step's
 *     environment (`${DRONE_*}` substituted, `from_secret` resolved) and DRONE_OUTPUT;
 *   - docker pipelines (`type: docker`): each step is a container, and a step with `settings` is a
 *     plugin: every setting becomes PLUGIN_<NAME> (lists joined by commas), the workspace is mounted at
 *     /drone/src and is the working directory, and the engine's socket is mounted in when the step names
 *     a volume at /var/run/docker.sock. The image's entrypoint runs (with `command` as its arguments).
 *     Containers share the host's network: the test registries listen on loopback only. A step with
 *     `commands` (a scanner's image, which cannot be pulled here) runs them on this host instead, with
 *     `path` (the stand-ins).
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { parse } from "yaml";
import { runProgram } from "./cli.js";
import { runStepCommands, type StepRun } from "./example-runner.js";

type Value = string | number | boolean | string[] | { from_secret: string };

interface Step {
  name: string;
  image?: string;
  volumes?: { name: string; path: string }[];
  environment?: Record<string, Value>;
  settings?: Record<string, Value>;
  commands?: string[];
  command?: string[];
}

interface Pipeline {
  type: string;
  steps: Step[];
}

export interface PipelineOptions {
  /** The pipeline's YAML. */
  text: string;
  workspace: string;
  /** DRONE_* values the runner sets and substitutes. */
  drone: Record<string, string>;
  secrets: Record<string, string>;
  /** exec: PATH for the steps (the stand-ins first); DRONE_OUTPUT files go to `outputDir`. */
  path?: string;
  outputDir?: string;
  /** docker: replaces each step's image whose name is a key (the example names the published image). */
  images?: Record<string, string>;
}

export interface StepResult extends StepRun {
  name: string;
  /** What the step wrote to DRONE_OUTPUT (exec pipelines). */
  output: string;
}

function resolve(value: Value, options: PipelineOptions): string {
  if (typeof value === "object" && !Array.isArray(value)) return options.secrets[value.from_secret] ?? "";
  const text = Array.isArray(value) ? value.join(",") : String(value);
  return text.replace(/\$\{(\w+)\}/g, (_, key: string) => options.drone[key] ?? "");
}

/** Runs every step in order, stopping at the first that fails; returns each step's result. */
export async function runPipeline(options: PipelineOptions): Promise<StepResult[]> {
  const pipeline = parse(options.text) as Pipeline;
  const results: StepResult[] = [];
  for (const step of pipeline.steps) {
    const env: Record<string, string> = { ...options.drone, DRONE_STEP_NAME: step.name };
    for (const [name, value] of Object.entries(step.environment ?? {})) env[name] = resolve(value, options);
    for (const [name, value] of Object.entries(step.settings ?? {})) {
      env[`PLUGIN_${name.toUpperCase()}`] = resolve(value, options);
    }
    let result: StepResult;
    if (pipeline.type === "exec") {
      env.PATH = options.path ?? process.env.PATH ?? "";
      env.DRONE_OUTPUT = join(options.outputDir ?? options.workspace, `drone-${step.name}.env`);
      const run = await runStepCommands((step.commands ?? []).join("\n"), options.workspace, env);
      const output = await readFile(env.DRONE_OUTPUT, "utf8").catch(() => "");
      result = { ...run, name: step.name, output };
    } else {
      result = { ...(await runContainer(step, env, options)), name: step.name, output: "" };
    }
    results.push(result);
    if (result.code !== 0) break;
  }
  return results;
}

async function runContainer(
  step: Step,
  env: Record<string, string>,
  options: PipelineOptions,
): Promise<StepRun> {
  if (!step.image) throw new Error(`step ${step.name} has no image`);
  if (step.commands) {
    env.PATH = options.path ?? process.env.PATH ?? "";
    return runStepCommands(step.commands.join("\n"), options.workspace, env);
  }
  const image = options.images?.[step.image] ?? step.image;
  const args = ["run", "--rm", "--network", "host"];
  for (const [name, value] of Object.entries({ ...env, DRONE_WORKSPACE: "/drone/src" })) {
    args.push("-e", `${name}=${value}`);
  }
  if (step.volumes?.some((volume) => volume.path === "/var/run/docker.sock")) {
    args.push("-v", "/var/run/docker.sock:/var/run/docker.sock");
  }
  args.push("-v", `${options.workspace}:/drone/src`);
  args.push("-w", "/drone/src", image, ...(step.command ?? []));
  return runProgram("docker", args);
}
