import { StepFailure } from "../errors.js";
import type { Logger } from "../log.js";

export async function runInspect(
  _tarball: string,
  _options: { json: boolean; logger: Logger },
): Promise<number> {
  throw new StepFailure("inspect is not implemented yet");
}
