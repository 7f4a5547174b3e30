import type { ResolvedSettings } from "../config/settings.js";
import { StepFailure } from "../errors.js";
import type { Logger } from "../log.js";

export interface StepContext {
  logger: Logger;
  env: NodeJS.ProcessEnv;
  /** Which command asked: plugin mode picks the mode from the settings; build and push are explicit. */
  command: "plugin" | "build" | "push";
}

/** Runs the one mode the settings ask for and returns the exit code. */
export async function runStep(_resolved: ResolvedSettings, _context: StepContext): Promise<number> {
  throw new StepFailure("modes are not implemented yet");
}
