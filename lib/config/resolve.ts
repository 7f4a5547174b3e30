import type { FlagValue } from "../cli/flags.js";
import { StepFailure } from "../errors.js";
import type { ResolvedSettings } from "./settings.js";

export interface ResolveInput {
  env: NodeJS.ProcessEnv;
  flags: FlagValue[];
  /** `--settings FILE` (else `PLUGIN_SETTINGS_FILE`). */
  settingsFile?: string;
  /** `--step NAME` (else `DRONE_STEP_NAME` / `HARNESS_STEP_ID`). */
  step?: string;
  /** Relative paths in settings resolve against this. */
  cwd: string;
}

/** Resolves and validates the settings of one run. Throws UsageError (exit 2) for bad input. */
export async function resolveSettings(_input: ResolveInput): Promise<ResolvedSettings> {
  // TODO(issue 3): the settings loader.
  throw new StepFailure("settings are not implemented yet");
}
