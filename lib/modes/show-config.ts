import type { ResolvedSettings } from "../config/settings.js";
import { StepFailure } from "../errors.js";

export async function runConfig(_resolved: ResolvedSettings, _options: { json: boolean }): Promise<number> {
  throw new StepFailure("config is not implemented yet");
}
