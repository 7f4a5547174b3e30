/**
 * The names (`repo:tag`) a run gives images in the engine, and putting them back afterwards.
 *
 * Every name is remembered with the image it pointed at before the run (or none) the first time the run
 * may change it; at the end a name that did not exist is removed and a name that pointed elsewhere is
 * pointed back. The names a loaded tarball brings are the exception when they are new: they stay, as
 * `docker load` leaves them (the plugin's behaviour), and removing them would make the engine delete the
 * image it just loaded, which costs about a second on every run. An image that existed before is never
 * removed (removing a name only deletes an image that has no other name left, i.e. one this run brought in).
 */

import type { Engine } from "../engine/engine.js";
import { asEngineFailure, engineMessage, httpStatusOf, isConnectionError } from "../engine/failure.js";
import type { Logger } from "../log.js";
import { splitTag } from "../reference/name.js";

/** The image ID a name points at in the engine, or undefined when there is no such image. */
export async function imageIdOf(engine: Engine, name: string): Promise<string | undefined> {
  try {
    const info = (await (await engine.client()).getImage(name).inspect()) as { Id?: string };
    return info.Id;
  } catch (error) {
    if (httpStatusOf(error) === 404) return undefined;
    throw asEngineFailure(engine, `inspecting ${name}`, error);
  }
}

function messageOfEngine(engine: Engine, error: unknown): string {
  if (isConnectionError(error)) return `the engine at ${engine.address.display} stopped answering`;
  return engineMessage(error);
}

/** The `repo@sha256:…` references the engine records for an image (the classic store adds one per push). */
async function repoDigestsOf(engine: Engine, image: string): Promise<string[] | undefined> {
  try {
    const info = (await (await engine.client()).getImage(image).inspect()) as {
      RepoDigests?: string[] | null;
    };
    return info.RepoDigests ?? [];
  } catch (error) {
    if (httpStatusOf(error) === 404) return undefined;
    throw asEngineFailure(engine, `inspecting ${image}`, error);
  }
}

export class ImageNames {
  /** name -> the image ID it pointed at before the run (undefined: it did not exist). */
  private readonly before = new Map<string, string | undefined>();
  /** Names that stay when they are new (a loaded tarball's own names). */
  private readonly keptWhenNew = new Set<string>();
  /** image ID -> its `repo@digest` references before the run. */
  private readonly digestsBefore = new Map<string, Set<string>>();
  /** image ID -> whether it was in the engine before the run (see rememberImages). */
  private readonly imagesBefore = new Map<string, boolean>();

  constructor(private readonly engine: Engine) {}

  /** Records what `name` points at now, unless recorded already. Call before anything may move it. */
  async remember(name: string): Promise<void> {
    if (this.before.has(name)) return;
    this.before.set(name, await imageIdOf(this.engine, name));
  }

  /**
   * Records the image's `repo@digest` references, so that those a push adds are removed at the end. The
   * classic store records one for every push (moby distribution/push_v2.go) and keeps it after the tag is
   * gone, as long as the image has another name: the user's image would show `<none>` rows for the repo.
   */
  async rememberDigestReferences(imageId: string): Promise<void> {
    if (this.digestsBefore.has(imageId)) return;
    this.digestsBefore.set(imageId, new Set((await repoDigestsOf(this.engine, imageId)) ?? []));
  }

  /**
   * Lets `name` stay at the end if it did not exist before: the name of a tarball that loaded whole, once
   * the run succeeded. After a failure it is removed like every other new name: the run leaves nothing
   * of its own in the engine.
   */
  keepWhenNew(name: string): void {
    this.keptWhenNew.add(name);
  }

  /**
   * Records whether images with these IDs are in the engine now, before a load may bring them: after a
   * failure, one that was not and that has no name left is removed (an unnamed image a tarball brought).
   */
  async rememberImages(ids: string[]): Promise<void> {
    for (const id of ids) {
      if (!this.imagesBefore.has(id))
        this.imagesBefore.set(id, (await imageIdOf(this.engine, id)) !== undefined);
    }
  }

  /** Whether `name` existed before the run (after {@link remember}). */
  existedBefore(name: string): boolean {
    return this.before.get(name) !== undefined;
  }

  /** Points `name` (`repo:tag`) at `image` (an ID or a name), remembering what it pointed at. */
  async tag(image: string, name: string): Promise<void> {
    await this.remember(name);
    const { name: repo, tag = "latest" } = splitTag(name);
    try {
      await (await this.engine.client()).getImage(image).tag({ repo, tag });
    } catch (error) {
      throw asEngineFailure(this.engine, `tagging ${image} as ${name}`, error);
    }
  }

  /**
   * Puts every remembered name back as it was, last changed first. Never throws: a name that cannot be
   * put back is reported as a warning (the run's own outcome matters more), with the command to do it.
   */
  async restore(logger: Logger, outcome: { succeeded: boolean }): Promise<void> {
    for (const [name, previous] of [...this.before].reverse()) {
      try {
        const current = await imageIdOf(this.engine, name);
        if (current === previous) continue;
        if (previous === undefined && outcome.succeeded && this.keptWhenNew.has(name)) continue;
        if (previous === undefined) {
          await (await this.engine.client()).getImage(name).remove();
          logger.debug(`removed the temporary name ${name} from the engine`);
        } else {
          const { name: repo, tag = "latest" } = splitTag(name);
          await (await this.engine.client()).getImage(previous).tag({ repo, tag });
          logger.debug(`pointed ${name} back at ${previous}`);
        }
      } catch (error) {
        if (httpStatusOf(error) === 404 && previous === undefined) continue;
        const reason = messageOfEngine(this.engine, error);
        const undo = previous === undefined ? `docker rmi ${name}` : `docker tag ${previous} ${name}`;
        logger.warn(`could not put the engine's name ${name} back as it was (${reason}): run \`${undo}\``);
      }
    }
    this.before.clear();
    this.keptWhenNew.clear();
    // After the names: removing an image's last tag of a repository drops its digest references too.
    for (const [imageId, previous] of this.digestsBefore) {
      try {
        for (const reference of (await repoDigestsOf(this.engine, imageId)) ?? []) {
          if (previous.has(reference)) continue;
          await (await this.engine.client()).getImage(reference).remove({ noprune: true });
          logger.debug(`removed the digest reference ${reference} the push added`);
        }
      } catch (error) {
        if (httpStatusOf(error) === 404) continue;
        logger.warn(
          `could not remove the digest references the push added to ${imageId}: ${messageOfEngine(this.engine, error)}`,
        );
      }
    }
    this.digestsBefore.clear();
    if (!outcome.succeeded) await this.#removeNewImages(logger);
    this.imagesBefore.clear();
  }

  /** Removes the images the run brought into the engine that no name holds any more. */
  async #removeNewImages(logger: Logger): Promise<void> {
    for (const [id, existed] of this.imagesBefore) {
      if (existed) continue;
      try {
        const info = (await (await this.engine.client()).getImage(id).inspect()) as {
          RepoTags?: string[] | null;
        };
        if ((info.RepoTags ?? []).length > 0) continue;
        await (await this.engine.client()).getImage(id).remove();
        logger.debug(`removed the image ${id} the failed run had loaded`);
      } catch (error) {
        if (httpStatusOf(error) === 404) continue;
        logger.warn(
          `could not remove the image ${id} the failed run had loaded (${messageOfEngine(this.engine, error)}): run \`docker rmi ${id}\``,
        );
      }
    }
  }
}
