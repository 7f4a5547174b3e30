/**
 * Whether the run is a CI system's job, whose stderr is a log even on a pseudo-terminal: the one reading
 * of `CI`, for both progress displays (buildx's own, buildx/progress.ts, and this tool's, renderer.ts).
 * CI systems set it to `true` (GitHub Actions, GitLab, Drone, Harness), `1` or their own name
 * (Woodpecker): any value but empty, `false` and `0` (in any case) means CI.
 */
export function isCi(env: NodeJS.ProcessEnv): boolean {
  const value = (env.CI ?? "").trim().toLowerCase();
  return value !== "" && value !== "false" && value !== "0";
}
