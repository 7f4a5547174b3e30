/**
 * The run's context from the CI system: Drone's `DRONE_*` variables, and what Harness CI sets (it exports
 * the `DRONE_*` names too, and its own `HARNESS_*` / `CI_*` ones). Used by auto tags and auto labels.
 */
import type { RunContext, SettingSource } from "./settings.js";

/** Variables of each field, the first one set wins. */
const RUN_CONTEXT_ENV: Readonly<Record<keyof RunContext, readonly string[]>> = {
  commitSha: ["DRONE_COMMIT_SHA", "DRONE_COMMIT", "CI_COMMIT_SHA"],
  commitRef: ["DRONE_COMMIT_REF", "CI_COMMIT_REF"],
  commitBranch: ["DRONE_COMMIT_BRANCH", "DRONE_BRANCH", "CI_COMMIT_BRANCH"],
  commitTag: ["DRONE_TAG", "CI_COMMIT_TAG"],
  buildNumber: ["DRONE_BUILD_NUMBER", "HARNESS_BUILD_ID", "CI_BUILD_NUMBER"],
  buildCreated: ["DRONE_BUILD_CREATED", "CI_BUILD_CREATED"],
  repoLink: ["DRONE_REPO_LINK", "CI_REPO_LINK"],
  repoBranch: ["DRONE_REPO_BRANCH", "CI_REPO_DEFAULT_BRANCH"],
  remoteUrl: ["DRONE_REMOTE_URL", "DRONE_GIT_HTTP_URL", "CI_REMOTE_URL"],
  stepName: ["DRONE_STEP_NAME", "HARNESS_STEP_ID"],
};

interface RunContextResult {
  run: RunContext;
  sources: Partial<Record<keyof RunContext, SettingSource>>;
}

export function readRunContext(env: NodeJS.ProcessEnv): RunContextResult {
  const run: RunContext = {};
  const sources: Partial<Record<keyof RunContext, SettingSource>> = {};
  for (const [field, names] of Object.entries(RUN_CONTEXT_ENV) as [keyof RunContext, readonly string[]][]) {
    const name = names.find((n) => env[n] !== undefined && env[n] !== "");
    if (!name) continue;
    run[field] = env[name];
    sources[field] = { kind: "env", name };
  }
  return { run, sources };
}
