/**
 * Push-only through the Docker engine (`PLUGIN_PUSH_VIA=daemon`, `buildx-step push --via daemon`): what the
 * Drone/Harness buildx plugin does with `docker load`, `docker tag`, `docker push`, for hosts whose registry
 * access goes through the engine (a mirror or proxy set in daemon.json, audited daemon pushes, an image
 * already in the engine).
 *
 * The engine publishes the tarball's digest only with the containerd image store; the classic store
 * compresses the layers again and the registry serves another digest. The run says which happened
 * (`digestPreserved`) and refuses up front when `PLUGIN_EXPECTED_DIGEST` asks for a digest the engine
 * cannot keep. Names the run gives images in the engine are put back as they were at the end.
 */
import type { OpenedArchive, OpenedImage } from "../archive/types.js";
import { dockerConfigKey } from "../auth/hosts.js";
import { preparePush } from "../auth/prepare-push.js";
import { credentialSourceFor } from "../auth/resolve.js";
import { withCleanup } from "../buildx/cleanup.js";
import { pluginSettingNames, type SettingNames } from "../config/provenance.js";
import type { Settings, ValidatedSettings } from "../config/settings.js";
import { ImageNames, imageIdOf } from "../daemon/image-names.js";
import { type LoadedImages, loadTarball } from "../daemon/load.js";
import { sizesByShortId } from "../daemon/progress.js";
import { PushRefused, pushTag } from "../daemon/push.js";
import { registryAuthHeader } from "../daemon/registry-auth.js";
import { connectEngine, type Engine } from "../engine/engine.js";
import { type EngineFacts, engineFacts } from "../engine/info.js";
import { messageOf, StepFailure, UsageError } from "../errors.js";
import type { Logger } from "../log.js";
import type { MovedTag, StepResult } from "../outputs/result.js";
import { createProgressRenderer, renderModeFor } from "../progress/renderer.js";
import { ProtocolError } from "../protocol-error.js";
import { normalizeRegistryHost } from "../reference/host.js";
import { fullTaggedName, type RepositoryName } from "../reference/name.js";
import { RegistryClient } from "../registry/client.js";
import type { Credential, CredentialSource } from "../registry/credential.js";
import { RepositoryClient } from "../registry/repository.js";
import type { SigningPlan } from "../signing/prepare.js";
import { pushTarget, tarballSource } from "./push-input.js";
import { withSettingHints } from "./setting-hints.js";
import { planSigning, signPushedWithNewClient, withSigning } from "./sign-step.js";

interface PushViaDaemonDeps {
  logger: Logger;
  env: NodeJS.ProcessEnv;
  /** How settings are named in messages (the flag in CLI mode). Default: their PLUGIN_* variables. */
  names?: SettingNames;
}

/**
 * What the run pushes from: an image of a tarball, or an image already in the engine, named by
 * `PLUGIN_SOURCE_IMAGE` or else by the target's own names (`PLUGIN_REPO:tag`), as a dry run left it there.
 */
type Source =
  | { kind: "tarball"; archive: OpenedArchive; image: OpenedImage; digest: string }
  | { kind: "engine"; names: string[]; setting: "sourceImage" | "repo" };

type TarballPlan = Extract<Source, { kind: "tarball" }>;

interface Plan {
  target: RepositoryName;
  tags: string[];
  source: Source;
  expectedDigest?: string;
}

/** Everything about the input that can be checked without the engine; throws UsageError. */
async function planPush(
  { settings, parsed }: ValidatedSettings,
  names: SettingNames,
  signal?: AbortSignal,
): Promise<Plan> {
  const { target, tags } = pushTarget(parsed);
  const { expectedDigest } = parsed;
  if (settings.sourceTarPath) {
    if (settings.sourcePlatform) {
      // The engine loads and pushes whole images: engine 26 has no way to push one manifest of an index.
      throw new UsageError(
        `${names("sourcePlatform")} pushes one platform's manifest, which the engine cannot do (it pushes whole images): push with the default ${names("pushVia")}=registry; nothing was pushed`,
        names("sourcePlatform"),
      );
    }
    const tarball = await tarballSource(
      settings.sourceTarPath,
      { ...settings, expectedDigest },
      names,
      signal,
    );
    if (tarball.archive.input.kind === "folder") {
      await tarball.archive.close();
      throw new UsageError(
        `${tarball.archive.path} is an OCI layout folder, and the engine loads only tarballs: push it with the default ${names("pushVia")}=registry, or make a tarball of it first (tar -cf image.tar -C ${tarball.archive.path} .); nothing was pushed`,
        names("pushVia"),
      );
    }
    return { target, tags, source: { kind: "tarball", ...tarball }, expectedDigest };
  }
  const sourceImage = settings.sourceImage?.trim();
  const source: Source = sourceImage
    ? { kind: "engine", names: [sourceImage], setting: "sourceImage" }
    : { kind: "engine", names: tags.map((tag) => `${target.full}:${tag}`), setting: "repo" };
  return { target, tags, source, expectedDigest };
}

/**
 * The one image the engine holds under the source's names: an image named by none is bad input (build it
 * first), and names that point at different images are too (which one was scanned is then unclear).
 */
async function engineSourceImage(
  engine: Engine,
  source: Extract<Source, { kind: "engine" }>,
): Promise<{ name: string; id: string }> {
  const found: { name: string; id: string }[] = [];
  for (const name of source.names) {
    const id = await imageIdOf(engine, name);
    if (id) found.push({ name, id });
  }
  const first = found[0];
  if (!first) {
    const what =
      source.setting === "sourceImage"
        ? `PLUGIN_SOURCE_IMAGE "${source.names[0]}" is not an image in the engine at ${engine.address.display}: load or build it there first, or set PLUGIN_SOURCE_TAR_PATH to its tarball`
        : `push-only without PLUGIN_SOURCE_TAR_PATH pushes the image the engine at ${engine.address.display} holds as ${source.names.join(" or ")}, and there is none: build it first in a dry run (PLUGIN_DRY_RUN=true leaves the image in the engine), or set PLUGIN_SOURCE_TAR_PATH to its tarball, or PLUGIN_SOURCE_IMAGE to the image to push`;
    throw new UsageError(`${what}; nothing was pushed`);
  }
  const others = found.filter((f) => f.id !== first.id);
  if (others.length > 0) {
    throw new UsageError(
      `${found.map((f) => `${f.name} is ${f.id}`).join(", ")} in the engine at ${engine.address.display}: the tags name different images, so which one to push is unclear. Set PLUGIN_SOURCE_IMAGE to the one to push; nothing was pushed`,
    );
  }
  return first;
}

/** Refusals that need the engine's facts but change nothing: an expected digest the engine cannot publish. */
async function checkAgainstEngine(
  plan: Plan,
  engine: Engine,
  facts: EngineFacts,
): Promise<{ name: string; id: string } | undefined> {
  let engineImage: { name: string; id: string } | undefined;
  if (plan.source.kind === "engine") engineImage = await engineSourceImage(engine, plan.source);
  if (plan.source.kind === "tarball" && plan.source.archive.format === "oci" && facts.store === "classic") {
    // moby's classic tarexport reads manifest.json (or the legacy `repositories` + json files) only.
    throw new UsageError(
      `${plan.source.archive.path} is an OCI layout without manifest.json, which the classic image store of the engine at ${engine.address.display} cannot load: build it with PLUGIN_BUILDX_OUTPUT_FORMAT=docker, or push it with the default PLUGIN_PUSH_VIA=registry; nothing was pushed`,
    );
  }
  if (!plan.expectedDigest) return engineImage;
  if (facts.store === "classic") {
    throw new UsageError(
      `PLUGIN_EXPECTED_DIGEST is set, but the engine at ${engine.address.display} keeps images in the classic image store (${facts.driver}), which compresses the layers again when it pushes: the registry would serve another digest than ${plan.expectedDigest}. Push with the default PLUGIN_PUSH_VIA=registry, which publishes the tarball's bytes as they are, or use an engine with the containerd image store; nothing was pushed`,
    );
  }
  // The containerd store's image ID is the manifest (or index) digest it will push.
  if (engineImage && engineImage.id !== plan.expectedDigest) {
    throw new UsageError(
      `PLUGIN_EXPECTED_DIGEST is ${plan.expectedDigest}, but "${engineImage.name}" in the engine is ${engineImage.id}; nothing was pushed`,
    );
  }
  return engineImage;
}

/** The engine's ID of the tarball image that was just loaded. */
async function loadedImageId(
  engine: Engine,
  facts: EngineFacts,
  image: OpenedImage,
  loaded: LoadedImages,
  path: string,
): Promise<string> {
  for (const name of image.names) {
    const key = fullTaggedName(name);
    const id = key ? await imageIdOf(engine, key) : undefined;
    if (id) return id;
  }
  // No name: the containerd store names the image by its manifest digest, the classic store by its config.
  const candidates =
    facts.store === "containerd"
      ? [image.descriptor.digest]
      : image.manifests.filter((m) => !m.attestation).map((m) => m.config.digest);
  for (const candidate of candidates) {
    if (loaded.ids.includes(candidate)) return candidate;
  }
  if (image.names.length === 0 && loaded.ids.length === 1 && loaded.ids[0] && loaded.names.length === 0) {
    return loaded.ids[0];
  }
  const reported = [...loaded.names, ...loaded.ids].join(", ") || "nothing";
  throw new StepFailure(
    `the engine at ${engine.address.display} loaded ${path} but the image ${image.names[0] ?? image.descriptor.digest} is not among what it reports (${reported}); check the tarball with \`buildx-step inspect ${path}\``,
  );
}

async function registryDigest(
  settings: Settings,
  env: NodeJS.ProcessEnv,
  target: RepositoryName,
  tag: string,
  credentials: CredentialSource,
  logger: Logger,
): Promise<string | undefined> {
  const client = await RegistryClient.connect({
    host: target.host,
    credentials,
    insecure: settings.insecure,
    caFile: settings.registryCa,
    env,
    userAgent: "buildx-step",
    onSecret: (value) => logger.addSecret(value),
    retry: { attempts: 2 },
  });
  try {
    return await new RepositoryClient(client, target.path).manifestDigest(tag);
  } finally {
    await client.close();
  }
}

export async function runPushViaDaemon(
  resolved: ValidatedSettings,
  deps: PushViaDaemonDeps,
): Promise<StepResult> {
  const { settings } = resolved;
  const { logger } = deps;
  // -- The input, before the engine is asked anything: the signing key among it (issue 15).
  const signing = await planSigning(settings, logger, deps.names);
  // SIGINT/SIGTERM stop the load or the push under way (the engine cancels what its client leaves), then
  // the names the run gave images in the engine are put back, as after any failure, and the run exits
  // 130/143 saying which tags were published: a runner's stop leaves the engine as it found it.
  return withCleanup(
    async (scope) => {
      const signal = scope.signal;
      const plan = await planPush(resolved, deps.names ?? pluginSettingNames, signal);
      // The temporary tar of a compressed or piped input goes once the engine has loaded it, or failed to.
      if (plan.source.kind === "tarball") scope.add(() => (plan.source as TarballPlan).archive.close());
      return pushThroughEngine(settings, { ...deps, signal }, plan, signing);
    },
    {
      onSignal: (signal) => logger.warn(`${signal}: stopping the push through the engine`),
      onCleanupError: (error) => logger.warn(`cleanup: ${messageOf(error)}`),
    },
  );
}

async function pushThroughEngine(
  settings: Settings,
  deps: PushViaDaemonDeps & { signal: AbortSignal },
  plan: Plan,
  signing: SigningPlan | undefined,
): Promise<StepResult> {
  const { logger, env, signal } = deps;
  const { target, tags, source } = plan;
  const engine = connectEngine(env);
  const facts = await engineFacts(engine);
  logger.info(
    `pushing through the Docker engine at ${engine.address.display} (${facts.store === "containerd" ? "containerd image store" : `classic image store, ${facts.driver}`}, engine ${facts.version})`,
  );
  const engineImage = await checkAgainstEngine(plan, engine, facts);
  if (signing?.attestation && source.kind === "tarball" && facts.store === "classic") {
    // The report is about the image that was scanned; the classic store publishes another digest.
    throw new UsageError(
      `PLUGIN_ATTEST_PREDICATE attests ${signing.attestation.file} about the pushed digest, but the engine at ${engine.address.display} keeps images in the classic image store, which compresses the layers again when it pushes: the registry would serve another digest than the tarball's, which was scanned. Push with the default PLUGIN_PUSH_VIA=registry, or use an engine with the containerd image store; nothing was pushed`,
    );
  }
  // ECR: create the repository and apply its policies (policy files are checked before any AWS call).
  await preparePush(settings, { logger, env });
  const credentials = credentialSourceFor(settings, env, logger);
  const credential: Credential | undefined = await credentials(target.host);
  const authHeader = registryAuthHeader(credential, dockerConfigKey(target.host));
  logger.addSecret(authHeader);

  const renderer = await createProgressRenderer({
    mode: renderModeFor({ quiet: settings.quiet, isTTY: Boolean(process.stderr.isTTY), env }),
    writeLine: (line) => logger.info(line),
  });
  const progress = renderer.sink;
  const names = new ImageNames(engine);
  const published: string[] = [];
  let pushedDigest: string | undefined;
  let succeeded = false;
  let restored: Promise<void> | undefined;
  try {
    // -- The image in the engine.
    let imageId: string;
    if (source.kind === "tarball") {
      // Every name the tarball brings is remembered first: a name the load moves is pointed back at the end;
      // a new one stays once the tarball loaded whole, as `docker load` leaves it.
      const tarballNames = source.archive.images.flatMap((image) => image.names.map(fullTaggedName));
      for (const key of tarballNames) if (key) await names.remember(key);
      // The IDs the load may bring (the containerd store names an image by its manifest or index digest,
      // the classic store by its config): one that is new and ends up nameless goes again after a failure.
      await names.rememberImages([
        source.image.descriptor.digest,
        ...source.image.manifests.filter((m) => !m.attestation).map((m) => m.config.digest),
      ]);
      logger.info(`loading ${source.archive.path} into the engine`);
      // A compressed or piped input is loaded from its plain temporary copy: the bytes that were checked.
      const loaded = await loadTarball(
        engine,
        source.archive.input.file,
        progress,
        source.archive.path,
        signal,
      );
      for (const key of tarballNames) if (key) names.keepWhenNew(key);
      logger.info(`the engine loaded ${[...loaded.names, ...loaded.ids].join(", ")}`);
      imageId = await loadedImageId(engine, facts, source.image, loaded, source.archive.path);
    } else {
      imageId = (engineImage as { id: string }).id;
    }

    if (facts.store === "classic") await names.rememberDigestReferences(imageId);
    const blobSizes =
      source.kind === "tarball" ? sizesByShortId((await source.archive.plan(source.image)).blobs) : undefined;

    // -- Tag and push, one tag at a time (the engine pushes `repo:tag`).
    signal?.throwIfAborted();
    for (const tag of tags) await names.tag(imageId, `${target.full}:${tag}`);
    for (const tag of tags) {
      let digest: string;
      try {
        signal?.throwIfAborted();
        digest = await pushTag(engine, target.full, tag, {
          authHeader,
          registryHost: target.host,
          progress,
          blobSizes,
          signal,
        });
      } catch (error) {
        if (published.length > 0 && (error instanceof StepFailure || error instanceof ProtocolError)) {
          throw new StepFailure(
            `${error.message} (already published before this failure: ${published.map((t) => `${target.full}:${t}`).join(", ")})`,
            { cause: error },
          );
        }
        throw error;
      }
      if (pushedDigest && digest !== pushedDigest) {
        logger.warn(
          `the engine pushed ${target.full}:${tag} as ${digest}, but the earlier tags as ${pushedDigest}`,
        );
      }
      pushedDigest ??= digest;
      published.push(tag);
    }
    succeeded = true;
  } catch (error) {
    if (signal?.aborted) {
      // The run exits 128+n once the names are put back (lib/buildx/cleanup.ts): say here what is out.
      const notPublished = tags.filter((tag) => !published.includes(tag));
      logger.error(
        `${messageOf(signal.reason)}: ${
          published.length === 0
            ? "nothing was published: no tag was pushed"
            : `published before it stopped: ${published.map((t) => `${target.full}:${t}`).join(", ")}; not published: ${notPublished.join(", ")}`
        }; the names given to images in the engine are put back`,
      );
      throw signal.reason;
    }
    if (error instanceof PushRefused && published.length === 0) {
      throw new StepFailure(`${error.message}; no tag was published`, { cause: error });
    }
    throw error;
  } finally {
    renderer.finish();
    // After a success the names are put back while the registry is read (removing a loaded image
    // takes the engine a moment); after a failure, before the error is reported.
    restored = names.restore(logger, { succeeded });
    if (!succeeded) await restored;
  }
  if (signal?.aborted) {
    // The signal came as the last tag was pushed, which then ended: all is published, and the run still
    // exits 128+n (lib/buildx/cleanup.ts).
    logger.warn(`${messageOf(signal.reason)} as the push ended: everything was published`);
  }
  // The digest this run pushed is the one the engine reports: it made the manifest from the image it
  // holds. That is what is reported, held to PLUGIN_EXPECTED_DIGEST and signed.
  const publishedDigest = pushedDigest as string;

  // -- What the registry serves for the tag, read directly, as a check only: another push may have moved
  // the tag since (or the registry answers what it likes), and a signature is never made for a digest
  // this run did not push. Through a mirror or proxy only the engine reaches the registry.
  let moved: MovedTag | undefined;
  try {
    const read = await registryDigest(settings, env, target, tags[0] ?? "latest", credentials, logger);
    if (read && read !== publishedDigest) {
      moved = { reference: `${target.full}:${tags[0]}`, serves: read };
      logger.warn(
        `the registry serves ${target.full}:${tags[0]} as ${read}, but the engine pushed ${publishedDigest}: another push may have moved the tag; this run reports${signing ? " and signs" : ""} ${publishedDigest}, the image it pushed`,
      );
    } else if (!read) {
      logger.warn(
        `the registry does not list ${target.full}:${tags[0]} yet; using the digest the engine reported`,
      );
    }
  } catch (error) {
    logger.info(
      `could not read ${target.full}:${tags[0]} from the registry directly (${messageOf(withSettingHints(error, deps.names))}); using the digest the engine reported`,
    );
  }

  await restored;

  let digestPreserved: boolean | undefined;
  if (source.kind === "tarball") {
    digestPreserved = publishedDigest === source.digest;
    if (!digestPreserved) {
      const why =
        facts.store === "classic"
          ? "the engine recompressed the layers (classic image store)"
          : "the engine rewrote the image";
      logger.warn(
        `${why}: the registry serves ${publishedDigest}, the tarball holds ${source.digest}; the published image has the same contents but not the digest that was built or scanned. The default PLUGIN_PUSH_VIA=registry publishes the tarball's digest`,
      );
    }
  }
  if (plan.expectedDigest && publishedDigest !== plan.expectedDigest) {
    throw new StepFailure(
      `the engine published ${target.full}:${tags.join(", :")} as ${publishedDigest}, not PLUGIN_EXPECTED_DIGEST ${plan.expectedDigest}: the engine changed the image while pushing it`,
    );
  }
  logger.info(`pushed ${target.full}:${tags.join(", :")} at ${publishedDigest} through the engine`);
  // The engine pushed; the signature goes straight to the registry with the same credentials, for the
  // digest the registry serves. A report is attested only about the digest of the tarball it was made
  // from: when the engine changed the image, the push is signed, not attested, and the run fails.
  const unattestable = signing?.attestation && digestPreserved === false ? signing.attestation : undefined;
  const signed = signing
    ? await signPushedWithNewClient(
        unattestable ? { ...signing, attestation: undefined } : signing,
        settings,
        {
          env,
          logger,
          credentials,
          target,
          digest: publishedDigest,
        },
      )
    : undefined;
  if (unattestable && source.kind === "tarball") {
    throw new StepFailure(
      `${target.full}@${publishedDigest} is published and signed, but not attested: ${unattestable.file} is about the tarball's image ${source.digest}, and the engine published ${publishedDigest}; push with the default PLUGIN_PUSH_VIA=registry to publish the digest that was scanned`,
    );
  }
  return withSigning(
    {
      mode: "push-only",
      image: settings.repo?.trim(),
      tags,
      digest: publishedDigest,
      digestPreserved,
      ...(moved ? { movedTags: [moved] } : {}),
      // As the registry path reports it: PLUGIN_REGISTRY when it is that registry (as the user spelled it).
      registry:
        settings.registry && normalizeRegistryHost(settings.registry) === target.host
          ? settings.registry
          : target.host,
    },
    signed,
  );
}
