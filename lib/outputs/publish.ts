import { registryKindOf } from "../config/registry-kind.js";
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
  settings: Pick<
    Settings,
    "outputFile" | "artifactFile" | "registryType" | "registry" | "artifactRegistry" | "json"
  >,
): Promise<void> {
  if (settings.outputFile) await writeDroneOutput(settings.outputFile, result);
  if (settings.artifactFile && result.digest) {
    const registry = settings.artifactRegistry?.trim() || result.registry;
    await writeArtifactFile(settings.artifactFile, { ...result, registry }, artifactRegistryType(settings));
  }
  if (settings.json) process.stdout.write(`${JSON.stringify(result)}\n`);
}

/**
 * The artifact file's `registryType`: `PLUGIN_REGISTRY_TYPE` as given, else what the plugin's wrapper for the
 * registry's kind writes (GCR, GAR, ACR; the ECR wrapper sets none, so Harness shows ECR images as Docker).
 */
function artifactRegistryType(settings: Pick<Settings, "registryType" | "registry">): string {
  const kind = registryKindOf(settings.registryType, settings.registry)?.kind;
  if (kind === "gar") return "GAR";
  if (settings.registryType?.trim()) return settings.registryType.trim();
  if (kind === "gcr" || kind === "acr") return kind.toUpperCase();
  return "Docker";
}
