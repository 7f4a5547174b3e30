/**
 * After a build pushed its image: what the registry serves for each tag the build wrote. Builds of
 * different contexts to one `repo:tag` run at once on one engine (issue 16): each pushes its own image,
 * the last tag write wins, and the engine's name for the image moves from build to build. The run
 * reports its own digest (its result's descriptor, lib/buildx/metadata.ts) and says here which tags no
 * longer serve it, so that a later step is not handed a digest the tag does not serve without being told.
 *
 * Read as a later step would pull: through the registry client, with the run's credentials. A registry
 * this host cannot reach (the builder's network differs) is worth a warning, not a failure: the build
 * did push, and buildx reported what.
 */

import type { SettingNames } from "../config/provenance.js";
import type { Settings } from "../config/settings.js";
import { messageOf, StepFailure } from "../errors.js";
import type { Logger } from "../log.js";
import type { MovedTag } from "../outputs/result.js";
import { parseImageReference, type RepositoryName } from "../reference/name.js";
import { RegistryClient } from "../registry/client.js";
import type { CredentialSource } from "../registry/credential.js";
import { RepositoryClient } from "../registry/repository.js";
import { withSettingHints } from "./setting-hints.js";

interface PushedTagsDeps {
  logger: Logger;
  env: NodeJS.ProcessEnv;
  credentials: CredentialSource;
  /** How the warnings' hints name settings (the flag in CLI mode). Default: their PLUGIN_* variables. */
  names?: SettingNames;
}

/** The image was not pushed at all: the registry has neither its digest nor a tag serving it. */
class BuildNotPushed extends StepFailure {
  constructor(repository: string, digest: string, served: string) {
    super(
      `buildx reported pushing ${repository} at ${digest}, but the registry has no such manifest in ${repository} (${served}): the engine pushed another build's image under this build's name; nothing of this build was published`,
    );
    this.name = "BuildNotPushed";
  }
}

/** The tags of `refs` (`registry/repository:tag`) grouped by repository. Pure. */
export function tagsByRepository(refs: string[]): { repository: RepositoryName; tags: string[] }[] {
  const groups = new Map<string, { repository: RepositoryName; tags: string[] }>();
  for (const ref of refs) {
    const parsed = parseImageReference(ref);
    if (!parsed?.tag) continue;
    const group = groups.get(parsed.repository.full) ?? { repository: parsed.repository, tags: [] };
    group.tags.push(parsed.tag);
    groups.set(parsed.repository.full, group);
  }
  return [...groups.values()];
}

/**
 * Checks every tag of `refs` against `digest`; returns the ones that serve something else, each said in
 * a warning. Throws {@link BuildNotPushed} when the registry does not have `digest` at all.
 */
export async function checkPushedTags(
  refs: string[],
  digest: string,
  settings: Settings,
  deps: PushedTagsDeps,
): Promise<MovedTag[]> {
  const moved: MovedTag[] = [];
  for (const { repository, tags } of tagsByRepository(refs)) {
    let served: Map<string, string | undefined>;
    try {
      served = await servedDigests(repository, tags, digest, settings, deps);
    } catch (error) {
      if (error instanceof BuildNotPushed) throw error;
      deps.logger.warn(
        `could not check what ${repository.full} serves for ${tags.join(", ")}: ${messageOf(withSettingHints(error, deps.names))}; reporting ${digest}, the digest buildx gave this build's image`,
      );
      continue;
    }
    for (const [tag, serves] of served) {
      if (serves === digest) continue;
      const reference = `${repository.full}:${tag}`;
      moved.push({ reference, serves: serves ?? null });
      deps.logger.warn(
        `another push moved ${reference}: it serves ${serves ?? "nothing"}, not ${digest}, which this build pushed and this run reports (pushes to one tag ran at once; the last to write it wins)`,
      );
    }
  }
  return moved;
}

async function servedDigests(
  repository: RepositoryName,
  tags: string[],
  digest: string,
  settings: Settings,
  deps: PushedTagsDeps,
): Promise<Map<string, string | undefined>> {
  const client = await RegistryClient.connect({
    host: repository.host,
    credentials: deps.credentials,
    insecure: settings.insecure,
    caFile: settings.registryCa,
    env: deps.env,
    userAgent: "buildx-step",
    onSecret: (value) => deps.logger.addSecret(value),
    retry: { attempts: 3 },
  });
  try {
    const manifests = new RepositoryClient(client, repository.path);
    const served = new Map<string, string | undefined>();
    for (const tag of tags) served.set(tag, await manifests.manifestDigest(tag));
    if (![...served.values()].includes(digest) && (await manifests.manifestDigest(digest)) === undefined) {
      const what = [...served].map(([tag, d]) => `:${tag} serves ${d ?? "nothing"}`).join(", ");
      throw new BuildNotPushed(repository.full, digest, what);
    }
    return served;
  } finally {
    await client.close();
  }
}
