import type { StepResult } from "./result.js";
import { replaceFile } from "./write-output.js";

/**
 * The plugin's `docker/v1` artifact file, which Harness reads to show the published images:
 * `{"kind": "docker/v1", "data": {"registryType", "registryUrl", "images": [{"image", "digest"}]}}`.
 */
interface DockerArtifact {
  kind: "docker/v1";
  data: {
    registryType: string;
    registryUrl: string;
    images: { image: string; digest: string }[];
  };
}

export function dockerArtifact(result: StepResult, registryType = "Docker"): DockerArtifact {
  const image = result.image ?? "";
  return {
    kind: "docker/v1",
    data: {
      registryType,
      registryUrl: result.registry ?? "",
      images: result.tags.map((tag) => ({ image: `${image}:${tag}`, digest: result.digest ?? "" })),
    },
  };
}

export async function writeArtifactFile(
  file: string,
  result: StepResult,
  registryType?: string,
): Promise<void> {
  await replaceFile(file, `${JSON.stringify(dockerArtifact(result, registryType), null, 2)}\n`);
}
