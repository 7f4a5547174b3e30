import type { ArchiveImage, Descriptor } from "../archive/types.js";
import { preparePush } from "../auth/prepare-push.js";
import { credentialSourceFor } from "../auth/resolve.js";
import { withCleanup } from "../buildx/cleanup.js";
import type { SettingNames } from "../config/provenance.js";
import type { Settings, ValidatedSettings } from "../config/settings.js";
import { messageOf, StepFailure } from "../errors.js";
import type { Logger } from "../log.js";
import { publishResult } from "../outputs/publish.js";
import type { StepResult } from "../outputs/result.js";
import { formatBytes } from "../progress/format.js";
import { createProgressRenderer, renderModeFor } from "../progress/renderer.js";
import { normalizeRegistryHost } from "../reference/host.js";
import { parseImageReference, type RepositoryName } from "../reference/name.js";
import { RegistryClient } from "../registry/client.js";
import type { CredentialSource } from "../registry/credential.js";
import { PartialPushError, pushImage } from "../registry/push.js";
import { RepositoryClient } from "../registry/repository.js";
import type { SigningPlan } from "../signing/prepare.js";
import type { SigningResult } from "../signing/publish.js";
import { PushDeadlineExceeded, startPushDeadline } from "./push-deadline.js";
import { type PushTarget, pushTarget, type TarballSource, tarballSource } from "./push-input.js";
import { planSigning, signPushed, withSigning } from "./sign-step.js";

interface PushOnlyDeps {
  logger: Logger;
  env: NodeJS.ProcessEnv;
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

export async function runPushOnly(resolved: ValidatedSettings, deps: PushOnlyDeps): Promise<StepResult> {
  const { settings, parsed } = resolved;
  // Through the engine when asked, and when there is no tarball: then the image is in the engine (the
  // plugin's push-only pushes PLUGIN_REPO:tag, or PLUGIN_SOURCE_IMAGE, from the engine).
  if (settings.pushVia === "daemon" || !settings.sourceTarPath) {
    // Imported on use, so the registry path never loads dockerode.
    const { runPushViaDaemon } = await import("./push-daemon.js");
    const result = await runPushViaDaemon(resolved, deps);
    await publishResult(result, settings);
    return result;
  }
  const { logger } = deps;
  const sourceTarPath = settings.sourceTarPath;
  const target = pushTarget(parsed);
  // The key and its password too (issue 15): a key that cannot sign stops the run before the push.
  const signing = await planSigning(settings, logger, deps.names);
  const deadline = startPushDeadline(parsed.pushTimeoutMs, settings.pushTimeout);
  try {
    return await withCleanup(
      async (scope) => {
        logger.debug(`push-only started at ${Math.round(process.uptime() * 1000)} ms`);
        const stop = AbortSignal.any([scope.signal, deadline.signal]);
        // The deadline cuts requests at once; a signal lets those under way end first (see the client).
        const cut = AbortSignal.any([deadline.signal, delayed(scope.signal, IN_FLIGHT_GRACE_MS)]);
        // The registry is pinged while the input is read and checked: a round trip, or a TLS handshake,
        // fewer to wait for. The login waits for the input to be known good (credential helpers and the
        // ECR, GCR and ACR token exchanges): a refused input runs none of them, nothing of theirs can hold up
        // its exit 2, and its error is what the run reports, whatever the registry said.
        const refused = new AbortController();
        let inputChecked = () => {};
        const checked = new Promise<void>((resolve, reject) => {
          inputChecked = resolve;
          refused.signal.addEventListener("abort", () => reject(refused.signal.reason), { once: true });
        });
        checked.catch(() => undefined);
        const source = credentialSourceFor(settings, deps.env, logger);
        const connecting = connectRegistry(settings, target.target, deps, {
          stop: AbortSignal.any([stop, refused.signal]),
          cut,
          credentials: async (host) => {
            await checked;
            return source(host);
          },
        });
        connecting.catch(() => undefined);
        scope.add(async () => {
          refused.abort(new Error("the push did not start"));
          // Not waited for: a credential source that ignores signals must not hold up the exit (SIGTERM).
          void connecting.then(
            (client) => client.close(),
            () => undefined,
          );
        });
        // A signal or the deadline also stops the copy of a compressed or piped input under way.
        const tarball = await tarballSource(
          sourceTarPath,
          { ...settings, expectedDigest: parsed.expectedDigest },
          deps.names,
          stop,
        ).catch((error: unknown) => {
          if (deadline.signal.aborted && error === deadline.signal.reason) {
            throw new StepFailure(
              `${deadline.signal.reason.message} (the input was still being read); nothing was published`,
              { cause: error },
            );
          }
          throw error;
        });
        // The temporary tar of a compressed or piped input goes, however the push ends.
        scope.add(() => tarball.archive.close());
        return pushTarball(settings, target, tarball, deps, signing, { stop, connecting, inputChecked });
      },
      {
        onSignal: (signal) => logger.warn(`${signal}: stopping the push and cancelling its open uploads`),
        onCleanupError: (error) => logger.warn(`cleanup: ${messageOf(error)}`),
      },
    );
  } finally {
    deadline.clear();
  }
}

/**
 * How long requests under way may go on after SIGINT/SIGTERM (a chunk of at most 16 MiB, a small blob):
 * less than the 15 s after which the signal handling exits regardless (lib/buildx/cleanup.ts), leaving
 * time to cancel the sessions.
 */
const IN_FLIGHT_GRACE_MS = 8_000;

/** A signal that aborts `ms` after `signal` does, with its reason. */
function delayed(signal: AbortSignal, ms: number): AbortSignal {
  const controller = new AbortController();
  signal.addEventListener("abort", () => setTimeout(() => controller.abort(signal.reason), ms).unref(), {
    once: true,
  });
  return controller.signal;
}

/** What a push that stopped part-way left published: nothing, or the tags written before it stopped. */
export function publishedSoFar(error: unknown, target: RepositoryName, tags: string[]): string {
  const written = error instanceof PartialPushError ? error.tagsWritten : [];
  if (written.length === 0) return "nothing was published: no tag was written";
  const notWritten = tags.filter((tag) => !written.includes(tag));
  return `published before it stopped: ${written.map((tag) => `${target.full}:${tag}`).join(", ")}; not published: ${notWritten.join(", ")}`;
}

/**
 * A client for the target registry, connected (pinged, with its login chosen). `stop` ends it (a signal,
 * the deadline): no new request starts; `cut` ends the requests under way.
 */
function connectRegistry(
  settings: Settings,
  target: RepositoryName,
  deps: PushOnlyDeps,
  { stop, cut, credentials }: { stop: AbortSignal; cut: AbortSignal; credentials: CredentialSource },
): Promise<RegistryClient> {
  const { logger } = deps;
  return RegistryClient.connect({
    signal: stop,
    abortSignal: cut,
    host: target.host,
    credentials,
    insecure: settings.insecure,
    caFile: settings.registryCa,
    env: deps.env,
    userAgent: "buildx-step",
    onSecret: (value) => logger.addSecret(value),
    onRetry: (operation, notice) =>
      logger.info(
        `retrying ${operation} in ${(notice.delayMs / 1000).toFixed(1)} s (attempt ${notice.attempt} failed: ${notice.error instanceof Error ? notice.error.message : String(notice.error)})`,
      ),
  });
}

/** The push of a tarball's image through the registry API, on the client `connecting` gives. */
async function pushTarball(
  settings: Settings,
  { target, tags }: PushTarget,
  { archive, image }: TarballSource,
  deps: PushOnlyDeps,
  signing: SigningPlan | undefined,
  {
    stop: signal,
    connecting,
    inputChecked,
  }: { stop: AbortSignal; connecting: Promise<RegistryClient>; inputChecked: () => void },
): Promise<StepResult> {
  const { logger } = deps;

  // -- Everything about the input, before anything that changes the registry is sent.
  // --debug shows where a push's time goes, counted from the process's start.
  // (process.uptime, not performance.now: that would load perf_hooks on every run.)
  const mark = (what: string) => logger.debug(`${what} at ${Math.round(process.uptime() * 1000)} ms`);
  mark(`${archive.path} indexed`);
  const plan = await archive.plan(image);
  // Said before the push: a registry that does not allow foreign URLs refuses the manifest, and then this
  // line explains why.
  if (plan.foreign?.length) logger.info(foreignLayersLine(plan.foreign));
  const mountFrom = mountSourcesFor(image, target);
  // ECR: create the repository and apply its policies (policy files are checked before any AWS call).
  await preparePush(settings, { logger, env: deps.env });

  // -- The push.
  const renderer = await createProgressRenderer({
    mode: renderModeFor({ quiet: settings.quiet, isTTY: Boolean(process.stderr.isTTY), env: deps.env }),
    writeLine: (line) => logger.info(line),
  });
  mark("input checked");
  const stopped = (error: unknown) => {
    if (!signal.aborted) return error;
    const what = publishedSoFar(error, target, tags);
    // A signal ends the process in withCleanup (exit 128+n) before any error is printed: say it here.
    if (!(signal.reason instanceof PushDeadlineExceeded)) {
      logger.error(`${messageOf(signal.reason)}: ${what}; open uploads were cancelled`);
      return error;
    }
    return new StepFailure(`${signal.reason.message}; ${what}`, { cause: error });
  };
  inputChecked();
  const client = await connecting.catch((error: unknown) => {
    throw stopped(error);
  });
  let pushed: Awaited<ReturnType<typeof pushImage>>;
  const repository = new RepositoryClient(client, target.path, mountFrom);
  try {
    mark(`connected to ${client.base.origin}`);
    pushed = await pushImage({
      repository,
      tags,
      plan,
      openBlob: (blobDigest) => archive.openBlob(blobDigest),
      progress: (event) => {
        if (event.type === "manifest") mark(`${event.reference} written`);
        renderer.sink(event);
      },
    });
  } catch (error) {
    renderer.finish();
    await client.close();
    throw stopped(error);
  }
  renderer.finish();
  logger.info(
    `pushed ${target.full} with tag${pushed.tags.length > 1 ? "s" : ""} ${pushed.tags.join(", ")} at ${pushed.digest} (${formatBytes(pushed.bytesUploaded)} uploaded, ${pushed.blobsSkipped} blobs already there${pushed.blobsMounted ? `, ${pushed.blobsMounted} mounted` : ""}${pushed.foreignSkipped.length ? `, ${pushed.foreignSkipped.length} foreign layer${pushed.foreignSkipped.length === 1 ? "" : "s"} not uploaded` : ""})`,
  );
  if (signal.aborted && !(signal.reason instanceof PushDeadlineExceeded)) {
    // The signal came while the last tag was being written, which then ended: all is published, and
    // the run still exits 128+n (lib/buildx/cleanup.ts).
    logger.warn(`${messageOf(signal.reason)} as the push ended: everything was published`);
  }
  // The signature goes through the same client, within the push's deadline; a failure now is exit 1
  // saying that the image is published unsigned.
  let signed: SigningResult | undefined;
  try {
    if (signing)
      signed = await signPushed(signing, { repository, target, digest: pushed.digest, logger, signal });
  } finally {
    await client.close();
  }
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
  const final = withSigning(result, signed);
  await publishResult(final, settings);
  return final;
}
