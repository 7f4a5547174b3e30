/**
 * The `docker buildx build` argument list, as a pure function of the settings and of what the mode wants
 * out of the build. Learned from the Drone buildx plugin's `commandBuildx`
 * (https://github.com/drone-plugins/drone-buildx/blob/master/docker.go) and buildx's flags
 * (https://docs.docker.com/reference/cli/docker/buildx/build/); the order here is this project's own.
 *
 * No secret value is ever part of the list: `PLUGIN_SECRETS_FROM_ENV` becomes `--secret id=X,env=NAME`
 * and the build args from the environment (proxies, `PLUGIN_BUILD_ARGS_FROM_ENV`: env-build-args.ts) become
 * `--build-arg NAME`, both read by buildx from its environment.
 */

import { secretArgs } from "../config/build-secrets.js";
import type { OutputFormat, RunContext, Settings } from "../config/settings.js";
import { csvField } from "./csv.js";
import type { ProgressMode } from "./progress.js";

/** What the build produces. */
export type BuildOutput =
  /** Build and push every tag (`--push`). */
  | { kind: "push" }
  /** Write the image to a tarball (`--output type=docker|oci,dest=...`). */
  | { kind: "tar"; format: OutputFormat; dest: string }
  /** Load the image into the engine (`--load`). */
  | { kind: "load" }
  /** Build only: the result stays in the build cache (`--output type=cacheonly`). */
  | { kind: "cacheOnly" };

/** What the mode decided beside the settings: the output, files, the builder, the clock. */
export interface BuildPlan {
  output: BuildOutput;
  /** The Dockerfile as buildx should read it (relative paths are relative to the working folder). */
  dockerfile: string;
  context: string;
  /** Full image references (`repo:tag`) to name the image with. */
  imageRefs: string[];
  /** Where buildx writes its metadata (the digest is read from it). */
  metadataFile: string;
  progress: ProgressMode;
  /** A created builder, or one the user named; undefined for the current (default) builder. */
  builder?: string;
  /** `created` for the auto labels, RFC 3339. */
  created: string;
  /** A file holding PLUGIN_SSH_AGENT_KEY, for `--ssh default=FILE`. */
  sshKeyFile?: string;
  /** Build args buildx reads from its environment (`envBuildArgs`), after the user's. */
  envBuildArgs?: readonly string[];
}

const OCI_LABEL_PREFIX = "org.opencontainers.image";

/**
 * The `org.opencontainers.image.*` labels the plugin adds from the run's context (`PLUGIN_AUTO_LABEL`),
 * followed by `PLUGIN_LABEL_SCHEMA` entries under the same prefix. Empty values are left out.
 * https://github.com/opencontainers/image-spec/blob/main/annotations.md
 */
function autoLabels(
  run: RunContext,
  repoLink: string | undefined,
  labelSchema: readonly string[],
  created: string,
): string[] {
  const pairs: [string, string | undefined][] = [
    ["created", created],
    ["revision", run.commitSha],
    ["source", run.remoteUrl],
    ["url", repoLink ?? run.repoLink],
  ];
  const labels = pairs
    .filter((pair): pair is [string, string] => pair[1] !== undefined && pair[1] !== "")
    .map(([key, value]) => `${OCI_LABEL_PREFIX}.${key}=${value}`);
  for (const entry of labelSchema) labels.push(`${OCI_LABEL_PREFIX}.${entry}`);
  return labels;
}

function outputArgs(output: BuildOutput): string[] {
  switch (output.kind) {
    case "push":
      return ["--push"];
    case "load":
      return ["--load"];
    case "tar":
      // buildx reads --output as one CSV record: a comma or a quote in the path would end the dest field
      // and add attributes of its own (`...,type=image,push=true`, a dry run that pushes).
      return ["--output", `type=${output.format},${csvField(`dest=${output.dest}`)}`];
    case "cacheOnly":
      return ["--output", "type=cacheonly"];
  }
}

/** Whether the extra buildx options already choose the progress display. */
function choosesProgress(options: readonly string[]): boolean {
  return options.some((option) => option === "--progress" || option.startsWith("--progress="));
}

/** `docker buildx build ...` as argv for `docker` (without the `docker` itself). */
export function buildxBuildArgs(settings: Settings, plan: BuildPlan): string[] {
  const args = ["buildx", "build"];
  // buildx refuses --quiet beside an explicit --progress.
  if (!settings.quiet && !choosesProgress(settings.buildxOptions)) args.push("--progress", plan.progress);
  if (plan.builder) args.push("--builder", plan.builder);
  args.push("--file", plan.dockerfile);
  for (const ref of plan.imageRefs) args.push("--tag", ref);
  if (settings.platforms.length > 0) args.push("--platform", settings.platforms.join(","));
  if (settings.target) args.push("--target", settings.target);
  for (const arg of settings.buildArgs) args.push("--build-arg", arg);
  // A name alone: buildx takes the value from its environment.
  for (const name of plan.envBuildArgs ?? []) args.push("--build-arg", name);
  for (const secret of secretArgs(settings)) args.push("--secret", secret);
  if (plan.sshKeyFile) args.push("--ssh", `default=${plan.sshKeyFile}`);
  const labels = settings.autoLabel
    ? autoLabels(settings.run, settings.repoLink, settings.labelSchema, plan.created)
    : [];
  for (const label of [...labels, ...settings.labels]) args.push("--label", label);
  for (const host of settings.addHost) args.push("--add-host", host);
  for (const cache of settings.cacheFrom) args.push("--cache-from", cache);
  for (const cache of settings.cacheTo) args.push("--cache-to", cache);
  if (settings.noCache) args.push("--no-cache");
  if (settings.pullImage) args.push("--pull");
  if (settings.quiet) args.push("--quiet");
  args.push(...outputArgs(plan.output));
  args.push("--metadata-file", plan.metadataFile);
  args.push(...settings.buildxOptions);
  args.push(plan.context);
  return args;
}
