import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const exec = promisify(execFile);
const script = fileURLToPath(new URL("../../../scripts/classic-engine.sh", import.meta.url));

let classic: Promise<string> | undefined;

/**
 * The DOCKER_HOST of a second engine with the classic image store, started by scripts/classic-engine.sh
 * when not running (it stays up for later tests; the script's `stop` ends it).
 */
export function classicEngineHost(): Promise<string> {
  classic ??= exec("bash", [script]).then(({ stdout }) => {
    const match = /DOCKER_HOST=(\S+)/.exec(stdout);
    if (!match?.[1]) throw new Error(`classic-engine.sh printed no DOCKER_HOST: ${stdout}`);
    return match[1];
  });
  return classic;
}
