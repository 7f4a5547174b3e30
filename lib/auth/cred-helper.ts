/**
 * docker's credential-helper protocol: `docker-credential-NAME get`, the server address on stdin, a JSON
 * answer `{"ServerURL","Username","Secret"}` on stdout, where the user name `<token>` marks an identity
 * token (https://github.com/docker/docker-credential-helpers/blob/master/client/client.go).
 */
import { StepFailure } from "../errors.js";
import { exec } from "../exec/exec.js";
import type { Credential } from "../registry/credential.js";

/** The user name helpers answer with when the secret is an identity (refresh) token. */
const IDENTITY_TOKEN_USERNAME = "<token>";
/** What helpers print when they have nothing for the address (docker-credential-helpers' `ErrCredentialsNotFound`). */
const NOT_FOUND = /credentials not found/i;
const HELPER_NAME = /^[A-Za-z0-9._-]+$/;

/** The helper program is not on PATH: docker fails here, a step can go on without it. */
export class CredentialHelperMissing extends Error {
  constructor(readonly program: string) {
    super(`${program} is not on PATH`);
    this.name = "CredentialHelperMissing";
  }
}

interface CredentialHelperOptions {
  /** The helper's environment (PATH finds it). */
  env?: NodeJS.ProcessEnv;
  /** Registers the secrets a helper answers with, before anything can print them. */
  addSecret?: (value: string | undefined) => void;
  timeoutMs?: number;
}

/** The program for a `credsStore` / `credHelpers` value. */
function credentialHelperProgram(name: string): string {
  if (!HELPER_NAME.test(name)) {
    throw new StepFailure(
      `credential helper name "${name}" in the docker config is not a valid program suffix`,
    );
  }
  return `docker-credential-${name}`;
}

/** Parses a helper's `get` answer. Pure; undefined when it holds no credential. */
export function parseCredentialHelperAnswer(stdout: string): Credential | undefined {
  let answer: unknown;
  try {
    answer = JSON.parse(stdout);
  } catch {
    throw new Error("its answer is not JSON");
  }
  if (typeof answer !== "object" || answer === null) throw new Error("its answer is not a JSON object");
  const { Username: username, Secret: secret } = answer as { Username?: unknown; Secret?: unknown };
  if (typeof secret !== "string" || secret === "") return undefined;
  if (username === IDENTITY_TOKEN_USERNAME) return { identityToken: secret };
  return { username: typeof username === "string" ? username : undefined, password: secret };
}

/** A helper's output as text, without the final newline. */
function outputText(chunks: Buffer[]): string {
  return Buffer.concat(chunks)
    .toString("utf8")
    .replace(/\r?\n$/, "");
}

/**
 * Asks helper `name` for the credentials of `serverAddress` (as docker keys it: see dockerConfigKey).
 * Undefined when the helper has none; CredentialHelperMissing when the program is not on PATH.
 */
export async function getFromCredentialHelper(
  name: string,
  serverAddress: string,
  options: CredentialHelperOptions = {},
): Promise<Credential | undefined> {
  const program = credentialHelperProgram(name);
  const stdoutChunks: Buffer[] = [];
  const stderrChunks: Buffer[] = [];
  const exit = await exec(program, ["get"], {
    env: options.env ?? process.env,
    input: serverAddress,
    timeoutMs: options.timeoutMs ?? 60_000,
    onStdout: (data) => stdoutChunks.push(data),
    onStderr: (data) => stderrChunks.push(data),
  });
  if (exit.error?.code === "ENOENT") throw new CredentialHelperMissing(program);
  const stdout = outputText(stdoutChunks);
  const stderr = outputText(stderrChunks);
  if (exit.code !== 0) {
    if (NOT_FOUND.test(stdout) || NOT_FOUND.test(stderr)) return undefined;
    if (exit.timedOut) throw new StepFailure(`${program} get ${serverAddress}: timed out`);
    // The helper's own message, never its stdout as a whole: a broken helper could print a secret there.
    const reason = (stderr || stdout).split("\n").slice(-3).join(" ").trim();
    throw new StepFailure(
      `${program} get ${serverAddress} failed (exit ${exit.code ?? "?"})${reason ? `: ${reason}` : ""}`,
    );
  }
  let credential: Credential | undefined;
  try {
    credential = parseCredentialHelperAnswer(stdout);
  } catch (error) {
    throw new StepFailure(`${program} get ${serverAddress}: ${(error as Error).message}`);
  }
  options.addSecret?.(credential?.password);
  options.addSecret?.(credential?.identityToken);
  return credential;
}
