/**
 * `docker push REPO:TAG` through the engine API. One tag per request: without `tag` the engine would push
 * every tag of the repository it holds. The engine answers 200 and reports a refusal (wrong password,
 * no such repository, quota) inside the stream; the manifest digest also comes from the stream.
 * https://docs.docker.com/reference/api/engine/version/v1.45/#tag/Image/operation/ImagePush
 */
import type Dockerode from "dockerode";
import type { Engine } from "../engine/engine.js";
import { asEngineFailure } from "../engine/failure.js";
import type { ProgressSink } from "../progress/events.js";
import { ProtocolError, type ProtocolErrorKind } from "../protocol-error.js";
import { EngineStreamError, readJsonMessages } from "./json-messages.js";
import { EngineProgress, pushedDigestOf } from "./progress.js";

/**
 * The registry (through the engine) refused the push; `registryMessage` is its words as the engine relays
 * them, and the kind what they most likely mean.
 */
export class PushRefused extends ProtocolError {
  constructor(
    reference: string,
    readonly registryMessage: string,
    readonly registryHost: string,
  ) {
    super(PushRefused.kindOf(registryMessage), `pushing ${reference} failed: ${registryMessage}`);
    this.name = "PushRefused";
  }

  /** Pure: what the registry's words most likely mean. */
  static kindOf(registryMessage: string): ProtocolErrorKind {
    if (
      /\b401\b|unauthori[sz]ed|authentication required|incorrect username or password/i.test(registryMessage)
    )
      return "unauthorized";
    if (/no basic auth credentials/i.test(registryMessage)) return "login-required";
    if (/\b403\b|denied|forbidden/i.test(registryMessage)) return "denied";
    if (/http: server gave HTTP response to HTTPS client|certificate|x509|tls/i.test(registryMessage))
      return "untrusted-certificate";
    return "engine-refused";
  }
}

/**
 * Pushes `repository:tag` (already tagged in the engine) with the given `X-Registry-Auth` value and
 * returns the manifest digest the engine reports. The auth value is never logged.
 */
export async function pushTag(
  engine: Engine,
  repository: string,
  tag: string,
  options: {
    authHeader: string;
    registryHost: string;
    progress: ProgressSink;
    blobSizes?: ReadonlyMap<string, number>;
    /** Stops the push: the request is cut, and the engine cancels the push it was making for it. */
    signal?: AbortSignal;
  },
): Promise<string> {
  const reference = `${repository}:${tag}`;
  const events = new EngineProgress(reference, options.blobSizes);
  let digest: string | undefined;
  try {
    // The auth goes in `authconfig.base64` as is: dockerode puts it in the header and not in the URL.
    const response = (await (await engine.client()).getImage(repository).push({
      tag,
      authconfig: { base64: options.authHeader },
      ...(options.signal ? { abortSignal: options.signal } : {}),
    } as Dockerode.ImagePushOptions)) as NodeJS.ReadableStream;
    await readJsonMessages(response, (message) => {
      const pushed = pushedDigestOf(message);
      if (pushed && (pushed.tag === undefined || pushed.tag === tag)) digest = pushed.digest;
      for (const event of events.events(message)) options.progress(event);
    });
  } catch (error) {
    if (options.signal?.aborted) throw options.signal.reason;
    if (error instanceof EngineStreamError) {
      throw new PushRefused(reference, error.message, options.registryHost);
    }
    throw asEngineFailure(engine, `pushing ${reference}`, error);
  }
  if (!digest) {
    throw new ProtocolError(
      "bad-response",
      `pushing ${reference}: the engine at ${engine.address.display} ended the push without reporting a manifest digest`,
    );
  }
  return digest;
}
