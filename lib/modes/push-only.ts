import type { ArchiveImage, Descriptor } from "../archive/types.js";
import type { CredentialSource } from "../auth/credential.js";
import { preparePush } from "../auth/prepare-push.js";
import { credentialSourceFor } from "../auth/resolve.js";
import type { SettingNames } from "../config/provenance.js";
import type { Settings } from "../config/settings.js";
import type { Logger } from "../log.js";
import { publishResult } from "../outputs/publish.js";
import type { StepResult } from "../outputs/result.js";
import type { ProgressSink } from "../progress/events.js";
import { formatBytes } from "../progress/format.js";
import { createProgressRenderer, renderModeFor } from "../progress/renderer.js";
import { RegistryClient } from "../registry/client.js";
import { pushImage } from "../registry/push.js";
import { normalizeRegistryHost, parseImageReference, type RepositoryName } from "../registry/reference.js";
import { RepositoryClient } from "../registry/repository.js";
import { pushTarget, type TarballSource, tarballSource } from "./push-input.js";

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
  /** How settings are named in messages (the flag in CLI mode). Default: their PLUGIN_* variables. */
  names?: SettingNames;
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

/**
 * The log line for foreign (non-distributable) layers, which are not uploaded: docker push and containerd
 * skip them too, and pullers fetch them from the URLs the manifest lists.
 */
export function foreignLayersLine(foreign: Descriptor[]): string {
  const list = foreign
    .map((layer) => `${layer.digest} (${formatBytes(layer.size)}, from ${layer.urls?.join(" ") ?? "no URL"})`)
    .join(", ");
  return `${foreign.length} foreign layer${foreign.length === 1 ? "" : "s"} not uploaded: ${list}; they are non-distributable, the registry refers to them by URL`;
}

export async function runPushOnly(settings: Settings, deps: PushOnlyDeps): Promise<StepResult> {
  // Through the engine when asked, and when there is no tarball: then the image is in the engine (the
  // plugin's push-only pushes PLUGIN_REPO:tag, or PLUGIN_SOURCE_IMAGE, from the engine).
  if (settings.pushVia === "daemon" || !settings.sourceTarPath) {
    // Imported on use, so the registry path never loads dockerode.
    const { runPushViaDaemon } = await import("./push-daemon.js");
    const result = await runPushViaDaemon(settings, deps);
    await publishResult(result, settings, deps.writeStdout);
    return result;
  }
  const { logger } = deps;

  // -- Everything about the input, before anything is sent (the target first: it is cheap to check).
  const sourceTarPath = settings.sourceTarPath;
  pushTarget(settings);
  // --debug shows where a push's time goes, counted from the process's start.
  const mark = (what: string) => logger.debug(`${what} at ${Math.round(performance.now())} ms`);
  mark("push-only started");
  const source = await tarballSource(sourceTarPath, settings, deps.names);
  try {
    return await pushFromArchive(settings, deps, source, mark);
  } finally {
    // The temporary tar of a compressed or piped input goes, however the push ended.
    await source.archive.close();
  }
}

async function pushFromArchive(
  settings: Settings,
  deps: PushOnlyDeps,
  { archive, image }: TarballSource,
  mark: (what: string) => void,
): Promise<StepResult> {
  const { logger } = deps;
  const { target, tags } = pushTarget(settings);
  mark(`${archive.path} indexed`);
  const plan = await archive.plan(image);
  // Said before the push: a registry that does not allow foreign URLs refuses the manifest, and then this
  // line explains why.
  if (plan.foreign?.length) logger.info(foreignLayersLine(plan.foreign));
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
    `pushed ${target.full} with tag${pushed.tags.length > 1 ? "s" : ""} ${pushed.tags.join(", ")} at ${pushed.digest} (${formatBytes(pushed.bytesUploaded)} uploaded, ${pushed.blobsSkipped} blobs already there${pushed.blobsMounted ? `, ${pushed.blobsMounted} mounted` : ""}${pushed.foreignSkipped.length ? `, ${pushed.foreignSkipped.length} foreign layer${pushed.foreignSkipped.length === 1 ? "" : "s"} not uploaded` : ""})`,
  );
  const result: StepResult = {
    mode: "push-only",
    // The repository as the user spelled it, as the plugin records it in the artifact file.
    image: (settings.repo ?? target.full).trim(),
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
  await publishResult(result, settings, deps.writeStdout);
  return result;
}
