/**
 * Getting an ECR repository ready before a push, as the Drone ECR plugin does with `create_repository`,
 * `scan_on_push`, `lifecycle_policy` and `repository_policy`: create the repository when it is missing (with
 * its scan-on-push setting), then apply the policy files. ECR refuses a push to a repository that does not
 * exist, so this runs before anything is pushed.
 */
import { readFile } from "node:fs/promises";
import { isAbsolute, resolve } from "node:path";
import {
  CreateRepositoryCommand,
  DescribeRepositoriesCommand,
  ECRClient,
  PutImageScanningConfigurationCommand,
  PutLifecyclePolicyCommand,
  SetRepositoryPolicyCommand,
} from "@aws-sdk/client-ecr";
import type { Settings } from "../config/settings.js";
import { UsageError } from "../errors.js";
import type { Logger } from "../log.js";
import { registryHostOf } from "../reference/host.js";
import type { AwsCredentialProvider } from "./aws-credentials.js";
import { awsStepFailure } from "./ecr.js";
import type { EcrRegistry } from "./ecr-registry.js";

/** ECR's repository name rule (https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_CreateRepository.html). */
const ECR_REPOSITORY_NAME = /^(?=.{2,256}$)(?:[a-z0-9]+(?:[._-][a-z0-9]+)*\/)*[a-z0-9]+(?:[._-][a-z0-9]+)*$/;

/** What to do to the repository: read and checked before any AWS call. */
export interface EcrRepositoryPlan {
  repositoryName: string;
  create: boolean;
  scanOnPush: boolean;
  lifecyclePolicyText?: string;
  repositoryPolicyText?: string;
}

type PlanSettings = Pick<
  Settings,
  "repo" | "createRepository" | "scanOnPush" | "lifecyclePolicy" | "repositoryPolicy"
>;

/** The repository's name inside the registry: `PLUGIN_REPO` without the registry host. Pure. */
export function ecrRepositoryName(repo: string | undefined, registryHost: string): string {
  const name = (repo ?? "").trim();
  if (name === "") {
    throw new UsageError("PLUGIN_REPO is empty: ECR needs the repository to push to");
  }
  const named = name.toLowerCase().startsWith(`${registryHost.toLowerCase()}/`)
    ? registryHost
    : registryHostOf(name);
  const path = named === undefined ? name : name.slice(named.length + 1);
  if (!ECR_REPOSITORY_NAME.test(path)) {
    throw new UsageError(
      `PLUGIN_REPO "${name}": "${path}" is not a valid ECR repository name (2-256 lower-case letters, digits, . _ - and / between parts)`,
    );
  }
  return path;
}

async function readPolicy(path: string, setting: string, cwd: string): Promise<string> {
  const full = isAbsolute(path) ? path : resolve(cwd, path);
  let text: string;
  try {
    text = await readFile(full, "utf8");
  } catch (error) {
    throw new UsageError(
      `${setting}: cannot read ${full} (${(error as NodeJS.ErrnoException).code ?? "error"}): give the path of a JSON policy file`,
    );
  }
  try {
    JSON.parse(text);
  } catch {
    throw new UsageError(`${setting}: ${full} is not valid JSON: ECR takes the policy as a JSON document`);
  }
  return text;
}

/**
 * Reads what the settings ask of the repository; undefined when they ask nothing. UsageError for an
 * unreadable or invalid policy file, before anything is changed anywhere.
 */
export async function ecrRepositoryPlan(
  settings: PlanSettings,
  registry: EcrRegistry,
  cwd: string,
): Promise<EcrRepositoryPlan | undefined> {
  if (!settings.createRepository && !settings.lifecyclePolicy && !settings.repositoryPolicy) return undefined;
  const plan: EcrRepositoryPlan = {
    repositoryName: ecrRepositoryName(settings.repo, registry.host),
    create: settings.createRepository,
    scanOnPush: settings.scanOnPush,
  };
  if (settings.lifecyclePolicy) {
    plan.lifecyclePolicyText = await readPolicy(settings.lifecyclePolicy, "PLUGIN_LIFECYCLE_POLICY", cwd);
  }
  if (settings.repositoryPolicy) {
    plan.repositoryPolicyText = await readPolicy(settings.repositoryPolicy, "PLUGIN_REPOSITORY_POLICY", cwd);
  }
  return plan;
}

function errorName(error: unknown): string | undefined {
  return (error as { name?: string })?.name;
}

/** Carries out a plan against ECR. Each failure names the step and AWS's error code. */
export async function applyEcrRepositoryPlan(
  plan: EcrRepositoryPlan,
  registry: EcrRegistry,
  credentials: AwsCredentialProvider,
  logger: Logger,
): Promise<void> {
  const client = new ECRClient({ region: registry.region, credentials });
  const repositoryName = plan.repositoryName;
  const registryId = registry.accountId ? { registryId: registry.accountId } : {};
  const fail = (step: string, error: unknown) => {
    const failure = awsStepFailure(`${step} for repository ${repositoryName}`, error, logger.mask);
    if (/^AccessDenied/.test((error as { name?: string })?.name ?? "")) {
      failure.message += `; the AWS identity needs the IAM permission ecr:${step}`;
    }
    return failure;
  };

  if (plan.create) {
    let existing: { scanOnPush?: boolean } | undefined;
    try {
      const answer = await client.send(
        new DescribeRepositoriesCommand({ repositoryNames: [repositoryName], ...registryId }),
      );
      existing = { scanOnPush: answer.repositories?.[0]?.imageScanningConfiguration?.scanOnPush };
    } catch (error) {
      if (errorName(error) !== "RepositoryNotFoundException") throw fail("DescribeRepositories", error);
    }
    if (!existing) {
      try {
        await client.send(
          new CreateRepositoryCommand({
            repositoryName,
            imageScanningConfiguration: { scanOnPush: plan.scanOnPush },
            ...registryId,
          }),
        );
        logger.info(
          `ECR: created repository ${repositoryName} (scan on push: ${plan.scanOnPush ? "on" : "off"})`,
        );
      } catch (error) {
        // Another step may have created it since we looked: that is what we wanted.
        if (errorName(error) !== "RepositoryAlreadyExistsException") throw fail("CreateRepository", error);
        existing = {};
      }
    }
    if (existing && Boolean(existing.scanOnPush) !== plan.scanOnPush) {
      try {
        await client.send(
          new PutImageScanningConfigurationCommand({
            repositoryName,
            imageScanningConfiguration: { scanOnPush: plan.scanOnPush },
            ...registryId,
          }),
        );
        logger.info(`ECR: scan on push ${plan.scanOnPush ? "on" : "off"} for repository ${repositoryName}`);
      } catch (error) {
        throw fail("PutImageScanningConfiguration", error);
      }
    }
  }
  if (plan.lifecyclePolicyText !== undefined) {
    try {
      await client.send(
        new PutLifecyclePolicyCommand({
          repositoryName,
          lifecyclePolicyText: plan.lifecyclePolicyText,
          ...registryId,
        }),
      );
      logger.info(`ECR: lifecycle policy applied to repository ${repositoryName}`);
    } catch (error) {
      throw fail("PutLifecyclePolicy", error);
    }
  }
  if (plan.repositoryPolicyText !== undefined) {
    try {
      await client.send(
        new SetRepositoryPolicyCommand({
          repositoryName,
          policyText: plan.repositoryPolicyText,
          ...registryId,
        }),
      );
      logger.info(`ECR: repository policy applied to repository ${repositoryName}`);
    } catch (error) {
      throw fail("SetRepositoryPolicy", error);
    }
  }
}
