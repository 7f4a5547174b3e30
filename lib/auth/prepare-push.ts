/**
 * What must happen at a registry before a push, whatever the mode (build-and-push, push-only through the
 * registry API or the engine): for ECR, create the repository when asked and apply the policy files.
 * Call `checkPreparePush` while validating input (it reads the policy files: UsageError, no side effect),
 * and `preparePush` just before the first byte is pushed (in build-and-push: before the build starts,
 * because buildx pushes as the build ends).
 */
import type { Settings } from "../config/settings.js";
import type { Logger } from "../log.js";
import type { EcrRepositoryPlan } from "./ecr-repository.js";
import { ecrSessionFor } from "./resolve.js";

export interface PreparePushContext {
  logger: Logger;
  /** The run's environment (AWS_SESSION_TOKEN beside AWS_ACCESS_KEY_ID). Default: process.env. */
  env?: NodeJS.ProcessEnv;
  /** Relative policy paths resolve against this (default: the process's cwd). */
  cwd?: string;
}

/** Settings already warned about, so that check + prepare warn once. */
const warned = new WeakSet<Settings>();

/** Reads and checks what preparePush will do; undefined when nothing. UsageError for bad policy files. */
export async function checkPreparePush(
  settings: Settings,
  context: PreparePushContext,
): Promise<EcrRepositoryPlan | undefined> {
  const session = ecrSessionFor(settings, context.logger, context.env);
  if (!session) {
    if (
      !warned.has(settings) &&
      (settings.createRepository || settings.lifecyclePolicy || settings.repositoryPolicy)
    ) {
      warned.add(settings);
      context.logger.warn(
        "PLUGIN_CREATE_REPOSITORY, PLUGIN_LIFECYCLE_POLICY and PLUGIN_REPOSITORY_POLICY apply to Amazon ECR only; the registry is not ECR (set PLUGIN_REGISTRY_TYPE=ECR if it is)",
      );
    }
    return undefined;
  }
  // Loaded only for ECR: the module brings the AWS SDK.
  const { ecrRepositoryPlan } = await import("./ecr-repository.js");
  const plan = await ecrRepositoryPlan(settings, session.registry, context.cwd ?? process.cwd());
  if (plan && session.registry.public) {
    if (warned.has(settings)) return undefined;
    warned.add(settings);
    context.logger.warn(
      "PLUGIN_CREATE_REPOSITORY and the policy settings are not supported for ECR Public (public.ecr.aws); create the repository in the ECR Public console",
    );
    return undefined;
  }
  return plan;
}

/** Gets the registry ready for the push (see the file comment). StepFailure names the AWS step that failed. */
export async function preparePush(settings: Settings, context: PreparePushContext): Promise<void> {
  const plan = await checkPreparePush(settings, context);
  const session = ecrSessionFor(settings, context.logger, context.env);
  if (!plan || !session) return;
  const [{ ensureAwsCredentials }, { applyEcrRepositoryPlan }] = await Promise.all([
    import("./ecr.js"),
    import("./ecr-repository.js"),
  ]);
  await ensureAwsCredentials(session.credentials, context.logger.mask, settings);
  await applyEcrRepositoryPlan(plan, session.registry, session.credentials, context.logger);
}
