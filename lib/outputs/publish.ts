import type { Settings } from "../config/settings.js";
import { writeArtifactFile } from "./artifact-file.js";
import { writeDroneOutput } from "./drone-output.js";
import type { StepResult } from "./result.js";

/**
 * Writes a run's result where the settings ask: `DRONE_OUTPUT` for later steps, the `docker/v1` artifact
 * file (only when there is a digest to record: an image that exists somewhere), and one JSON line on stdout.
 */
export async function publishResult(
  result: StepResult,
  settings: Pick<Settings, "outputFile" | "artifactFile" | "registryType" | "json">,
  writeStdout: (text: string) => void = (text) => process.stdout.write(text),
): Promise<void> {
  if (settings.outputFile) await writeDroneOutput(settings.outputFile, result);
  if (settings.artifactFile && result.digest) {
    await writeArtifactFile(settings.artifactFile, result, settings.registryType);
  }
  if (settings.json) writeStdout(`${JSON.stringify(result)}\n`);
}
