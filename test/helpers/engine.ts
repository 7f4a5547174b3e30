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

/**
 * Runs `image` to its end and returns what it printed. Not `docker run --rm`: on a busy engine the attach
 * of a container that exits at once can miss its output; the container's log (json-file) keeps all of it.
 */
export async function runImage(
  image: string,
  options: { entrypoint?: string; args?: string[]; env?: NodeJS.ProcessEnv } = {},
): Promise<string> {
  const name = `buildx-step-test-${process.pid}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
  const env = options.env ?? process.env;
  const entrypoint = options.entrypoint ? ["--entrypoint", options.entrypoint] : [];
  try {
    await exec(
      "docker",
      ["run", "--name", name, "--log-driver", "json-file", ...entrypoint, image, ...(options.args ?? [])],
      {
        env,
      },
    );
    const { stdout } = await exec("docker", ["logs", name], { env });
    return stdout;
  } finally {
    await exec("docker", ["rm", "--force", name], { env }).catch(() => {});
  }
}
