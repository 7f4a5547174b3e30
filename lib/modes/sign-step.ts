/**
 * Signing as a step of the push modes (issue 15): the plan made before anything runs, and the signature
 * written after the push. The signing code is imported only when a key is set: a run without one does
 * not load it (nor the cipher library a cosign key needs).
 */

import type { SettingNames } from "../config/provenance.js";
import type { Settings } from "../config/settings.js";
import type { Logger } from "../log.js";
import type { StepResult } from "../outputs/result.js";
import type { RepositoryName } from "../reference/name.js";
import { RegistryClient } from "../registry/client.js";
import type { CredentialSource } from "../registry/credential.js";
import { RepositoryClient } from "../registry/repository.js";
import type { SigningPlan } from "../signing/prepare.js";
import type { SigningResult, SignPushedOptions } from "../signing/publish.js";

/** The key opened and the predicate read, or undefined without PLUGIN_SIGN_KEY. Throws UsageError (exit 2). */
export async function planSigning(
  settings: Settings,
  logger: Logger,
  names?: SettingNames,
): Promise<SigningPlan | undefined> {
  if (!settings.signKey?.trim()) return undefined;
  const { prepareSigning } = await import("../signing/prepare.js");
  const plan = await prepareSigning(settings, names);
  if (plan) {
    const attest = plan.attestation
      ? `; attesting ${plan.attestation.file} as ${plan.attestation.type.name} (${plan.attestation.type.uri})`
      : "";
    logger.info(`signing the pushed digest with ${plan.keySource} (ECDSA P-256)${attest}`);
  }
  return plan;
}

/** Signs through a repository client the caller holds (the registry path's, within its deadline). */
export async function signPushed(plan: SigningPlan, options: SignPushedOptions): Promise<SigningResult> {
  const { signPushedImage } = await import("../signing/publish.js");
  return signPushedImage(plan, options);
}

/**
 * Signs through a new connection to the registry, with the run's credentials for it: after the engine
 * or buildx pushed, this process has none open.
 */
export async function signPushedWithNewClient(
  plan: SigningPlan,
  settings: Settings,
  options: {
    env: NodeJS.ProcessEnv;
    logger: Logger;
    credentials: CredentialSource;
    target: RepositoryName;
    digest: string;
  },
): Promise<SigningResult> {
  const { publishedUnsigned } = await import("../signing/publish.js");
  const { target, digest, logger } = options;
  let client: RegistryClient;
  try {
    client = await RegistryClient.connect({
      host: target.host,
      credentials: options.credentials,
      insecure: settings.insecure,
      caFile: settings.registryCa,
      env: options.env,
      userAgent: "buildx-step",
      onSecret: (value) => logger.addSecret(value),
    });
  } catch (error) {
    throw publishedUnsigned(
      target,
      digest,
      `connecting to ${target.host} to store its signature failed`,
      error,
    );
  }
  try {
    return await signPushed(plan, {
      repository: new RepositoryClient(client, target.path),
      target,
      digest,
      logger,
    });
  } finally {
    await client.close();
  }
}

/** The result with what signing stored, for --json and DRONE_OUTPUT. */
export function withSigning(result: StepResult, signed: SigningResult | undefined): StepResult {
  return signed ? { ...result, ...signed } : result;
}
