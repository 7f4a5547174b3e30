import type { StepResult } from "./result.js";
import { appendFile } from "./write-output.js";

/**
 * Lines for `DRONE_OUTPUT`: a dotenv file later steps read their variables from. Values are plain
 * (digests, paths, names): no quoting is needed, but a newline would end the value, so it is refused.
 */
export function droneOutputLines(result: StepResult): string[] {
  const pairs: [string, string | undefined][] = [
    ["digest", result.digest],
    ["IMAGE_TAR_PATH", result.tarPath],
    // Signing (issue 15): where a later step finds the signature and the attestation.
    ["signature_digest", result.signatureDigest],
    ["signature_ref", result.signatureRef],
    ["attestation_digest", result.attestationDigest],
    ["attestation_ref", result.attestationRef],
  ];
  return pairs
    .filter((pair): pair is [string, string] => pair[1] !== undefined && pair[1] !== "")
    .map(([key, value]) => {
      if (/[\r\n]/.test(value)) throw new Error(`output ${key} contains a line break`);
      return `${key}=${value}`;
    });
}

/** Appends the result's variables to the `DRONE_OUTPUT` file (other steps of the stage may add theirs). */
export async function writeDroneOutput(file: string, result: StepResult): Promise<void> {
  const lines = droneOutputLines(result);
  if (lines.length === 0) return;
  await appendFile(file, `${lines.join("\n")}\n`);
}
