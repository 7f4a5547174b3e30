/**
 * Push-only: no build; the image in a tarball goes to `PLUGIN_REPO` with each of `PLUGIN_TAGS`, byte for
 * byte, so the registry serves the digest the tarball records (the one the build reported and the
 * scanner saw). Everything that can be wrong with the input is checked before the first byte is sent.
 * With `PLUGIN_PUSH_VIA=daemon` the engine pushes instead (push-daemon.ts).
 */
import { openArchive } from "../archive/open.js";
import type { ArchiveImage, ImageArchive } from "../archive/types.js";
import type { CredentialSource } from "../auth/credential.js";
import { preparePush } from "../auth/prepare-push.js";
import { credentialSourceFor } from "../auth/resolve.js";
import type { Settings } from "../config/settings.js";
import { UsageError } from "../errors.js";
import type { Logger } from "../log.js";
import { writeArtifactFile } from "../outputs/artifact-file.js";
import { writeDroneOutput } from "../outputs/drone-output.js";
import type { StepResult } from "../outputs/result.js";
import type { ProgressSink } from "../progress/events.js";
import { formatBytes } from "../progress/format.js";
import { createProgressRenderer, renderModeFor } from "../progress/renderer.js";
import { RegistryClient } from "../registry/client.js";
import { pushImage } from "../registry/push.js";
import {
  checkTag,
  normalizeRegistryHost,
  parseImageReference,
  parseRepository,
  type RepositoryName,
} from "../registry/reference.js";
import { RepositoryClient } from "../registry/repository.js";

export interface PushOnlyDeps {
  logger: Logger;
  env: NodeJS.ProcessEnv;
  /** Default: the run's credentials (PLUGIN_USERNAME/PASSWORD, docker config, helpers, ECR). */
  credentials?: CredentialSource;
  /** Default: bars on a terminal, lines in CI logs, nothing with --quiet. */
  progress?: ProgressSink;
  /** Where `--json` goes. Default: stdout. */
  writeStdout?: (text: string) => void;
  signal?: AbortSignal;
}

/** One line per image of a tarball, for errors that ask the user to pick one. */
function describeImages(images: ArchiveImage[]): string {
  return images
    .map((image) => {
      const names = image.names.length ? image.names.join(", ") : "(no name)";
      const platforms = image.platforms.length ? ` [${image.platforms.join(", ")}]` : "";
      return `  ${names}  ${image.descriptor.digest}${platforms}`;
    })
    .join("\n");
}

/** Whether `wanted` (a name as docker reads it, or a digest) designates `image`. */
function designates(image: ArchiveImage, wanted: string): boolean {
  const trimmed = wanted.trim();
  if (/^sha256:[a-f0-9]{64}$/.test(trimmed)) return image.descriptor.digest === trimmed;
  const want = parseImageReference(trimmed);
  return image.names.some((name) => {
    if (name === trimmed) return true;
    const have = parseImageReference(name);
    if (!want || !have) return false;
    return have.repository.full === want.repository.full && (have.tag ?? "latest") === (want.tag ?? "latest");
  });
}

/** The image to push: the only one, or the one `PLUGIN_SOURCE_IMAGE` names. */
export function pickImage(
  archive: Pick<ImageArchive, "images" | "path">,
  sourceImage: string | undefined,
): ArchiveImage {
  const { images } = archive;
  if (sourceImage) {
    const matches = images.filter((image) => designates(image, sourceImage));
    if (matches.length === 1 && matches[0]) return matches[0];
    throw new UsageError(
      `PLUGIN_SOURCE_IMAGE "${sourceImage}" ${matches.length ? "matches several images" : "is not an image"} of ${archive.path}; its images are:\n${describeImages(images)}\nset PLUGIN_SOURCE_IMAGE to one of these names, or to a digest`,
      ["sourceImage"],
    );
  }
  if (images.length === 1 && images[0]) return images[0];
  throw new UsageError(
    `${archive.path} holds ${images.length} images; set PLUGIN_SOURCE_IMAGE to the one to push (a name or a digest):\n${describeImages(images)}`,
    ["sourceImage", "sourceTarPath"],
  );
}

/** Other repositories of the target registry that the tarball's names point at: blobs may be mounted from there. */
export function mountSourcesFor(image: ArchiveImage, target: RepositoryName): string[] {
  const sources = new Set<string>();
  for (const name of image.names) {
    const parsed = parseImageReference(name);
    if (parsed && parsed.repository.host === target.host && parsed.repository.path !== target.path) {
      sources.add(parsed.repository.path);
    }
  }
  return [...sources];
}

/** Writes the result where the settings ask: DRONE_OUTPUT, the artifact file, JSON on stdout. */
async function publishResult(result: StepResult, settings: Settings, writeStdout: (text: string) => void) {
  if (settings.outputFile) await writeDroneOutput(settings.outputFile, result);
  if (settings.artifactFile) await writeArtifactFile(settings.artifactFile, result, settings.registryType);
  if (settings.json) writeStdout(`${JSON.stringify(result)}\n`);
}

export async function runPushOnly(settings: Settings, deps: PushOnlyDeps): Promise<StepResult> {
  const writeStdout = deps.writeStdout ?? ((text: string) => process.stdout.write(text));
  if (settings.pushVia === "daemon") {
    // Imported on use, so the registry path never loads dockerode.
    const { runPushViaDaemon } = await import("./push-daemon.js");
    const result = await runPushViaDaemon(settings, deps);
    await publishResult(result, settings, writeStdout);
    return result;
  }
  const { logger } = deps;

  // -- Everything about the input, before anything is sent.
  if (!settings.sourceTarPath) {
    throw new UsageError(
      "push-only needs the image tarball: set PLUGIN_SOURCE_TAR_PATH (or give it to `buildx-step push TARBALL`)",
      ["sourceTarPath"],
    );
  }
  if (!settings.repo) {
    throw new UsageError(
      "push-only needs PLUGIN_REPO: the repository to push to, e.g. registry.example.com/team/app",
      ["repo"],
    );
  }
  const target = parseRepository(settings.repo);
  const tags = settings.tags.length ? settings.tags : ["latest"];
  for (const tag of tags) checkTag(tag);
  // --debug shows where a push's time goes, counted from the process's start.
  const mark = (what: string) => logger.debug(`${what} at ${Math.round(performance.now())} ms`);
  mark("push-only started");
  const archive = await openArchive(settings.sourceTarPath);
  mark(`${archive.path} indexed`);
  const image = pickImage(archive, settings.sourceImage);
  const digest = image.descriptor.digest;
  if (settings.expectedDigest && settings.expectedDigest.trim().toLowerCase() !== digest) {
    throw new UsageError(
      `PLUGIN_EXPECTED_DIGEST is ${settings.expectedDigest.trim()}, but the image in ${archive.path} has digest ${digest}: this is not the image that was built (or scanned); nothing was pushed`,
      ["expectedDigest", "sourceTarPath"],
    );
  }
  const plan = await archive.plan(image);
  const mountFrom = mountSourcesFor(image, target);
  // ECR: create the repository and apply its policies (policy files are checked before any AWS call).
  await preparePush(settings, { logger, env: deps.env });

  // -- The push.
  const renderer = deps.progress
    ? undefined
    : await createProgressRenderer({
        mode: renderModeFor({ quiet: settings.quiet, isTTY: Boolean(process.stderr.isTTY), env: deps.env }),
        writeLine: (line) => logger.info(line),
      });
  mark("input checked");
  const client = await RegistryClient.connect({
    host: target.host,
    credentials: deps.credentials ?? credentialSourceFor(settings, deps.env, logger),
    insecure: settings.insecure,
    caFile: settings.registryCa,
    env: deps.env,
    userAgent: "buildx-step",
    onRetry: (operation, notice) =>
      logger.info(
        `retrying ${operation} in ${(notice.delayMs / 1000).toFixed(1)} s (attempt ${notice.attempt} failed: ${notice.error instanceof Error ? notice.error.message : String(notice.error)})`,
      ),
  });
  let pushed: Awaited<ReturnType<typeof pushImage>>;
  try {
    mark(`connected to ${client.base.origin}`);
    pushed = await pushImage({
      repository: new RepositoryClient(client, target.path, mountFrom),
      tags,
      plan,
      openBlob: (blobDigest) => archive.openBlob(blobDigest),
      progress: (event) => {
        if (event.type === "manifest") mark(`${event.reference} written`);
        (deps.progress ?? renderer?.sink)?.(event);
      },
      signal: deps.signal,
    });
  } finally {
    renderer?.finish();
    await client.close();
  }
  logger.info(
    `pushed ${target.full} with tag${pushed.tags.length > 1 ? "s" : ""} ${pushed.tags.join(", ")} at ${pushed.digest} (${formatBytes(pushed.bytesUploaded)} uploaded, ${pushed.blobsSkipped} blobs already there${pushed.blobsMounted ? `, ${pushed.blobsMounted} mounted` : ""})`,
  );
  const result: StepResult = {
    mode: "push-only",
    image: settings.repo.trim(),
    tags: pushed.tags,
    digest: pushed.digest,
    bytesUploaded: pushed.bytesUploaded,
    blobsSkipped: pushed.blobsSkipped,
    // The registry the image went to: PLUGIN_REGISTRY when it is that one (as the user spelled it).
    registry:
      settings.registry && normalizeRegistryHost(settings.registry) === target.host
        ? settings.registry
        : target.host,
  };
  await publishResult(result, settings, writeStdout);
  return result;
}
