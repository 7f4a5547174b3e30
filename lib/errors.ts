/**
 * The two kinds of failure a run can end in, and their exit codes.
 *
 * - {@link UsageError}: the input is wrong (a setting, a file, a flag). Raised before anything is changed
 *   anywhere, so nothing was pushed and no tag moved. Exit code 2, no stack trace: the message says what
 *   is wrong and what to do.
 * - {@link StepFailure}: buildx, the engine or a registry failed. Exit code 1, with the cause.
 *
 * Protocol code throws a {@link ProtocolError} instead; its kind says which of the two it is.
 */
import { ProtocolError, type ProtocolErrorKind } from "./protocol-error.js";

export class UsageError extends Error {
  readonly exitCode = 2;
  /** The setting to change, named as the user knows it (`--source-image`, `PLUGIN_SOURCE_IMAGE`); `--json` shows it. */
  readonly setting?: string;
  constructor(message: string, setting?: string) {
    super(message);
    this.name = "UsageError";
    if (setting !== undefined) this.setting = setting;
  }
}

export class StepFailure extends Error {
  readonly exitCode = 1;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "StepFailure";
  }
}

/** The kinds that mean the input is wrong: nothing was pushed, and trying again cannot help. */
const INPUT_KINDS: ReadonlySet<ProtocolErrorKind> = new Set<ProtocolErrorKind>([
  "digest-mismatch",
  "corrupt-archive",
  "ambiguous-archive",
  "not-an-archive",
  "no-such-file",
  "unreadable-ca",
  "unreadable-file",
  "invalid-address",
]);

/**
 * Exit code for any thrown value: ours carry one; a protocol failure is bad input (2) when its kind is a
 * fault of the input, else a failure (1); anything else is an unexpected failure (1).
 */
export function exitCodeOf(error: unknown): number {
  if (error instanceof UsageError || error instanceof StepFailure) return error.exitCode;
  if (error instanceof ProtocolError) return INPUT_KINDS.has(error.kind) ? 2 : 1;
  return 1;
}

/** The message of any thrown value, for a log line. */
export function messageOf(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}
