/**
 * The one logger: human-readable lines on stderr (stdout is kept for `--json` results), with every
 * registered secret (in every spelling, see secret-mask.ts) replaced by `***` before anything is written,
 * and control characters shown escaped (printable.ts).
 */
import { printableLines } from "./printable.js";
import { SecretMask } from "./secret-mask.js";

export type LogLevel = "debug" | "info" | "warn" | "error";

export interface Logger {
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
  /** Registers values that must never be printed (passwords, tokens, keys). */
  addSecret(value: string | undefined): void;
  /** `text` with every registered secret replaced by `***`. */
  mask(text: string): string;
  readonly quiet: boolean;
}

interface LoggerOptions {
  quiet?: boolean;
  debug?: boolean;
  write?: (line: string) => void;
  /** The run's secrets, shared with the other loggers of the run (the final error line's among them). */
  secrets?: SecretMask;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const secrets = options.secrets ?? new SecretMask();
  const writeLine = options.write ?? ((line: string) => process.stderr.write(`${line}\n`));
  const quiet = options.quiet ?? false;
  const mask = (text: string): string => secrets.mask(text);
  // Masked first (a secret is matched as it was given), then made printable: no line of the log may move
  // the cursor, clear the screen or carry a carriage return, whatever a registry or a tarball said.
  const write = (line: string) => writeLine(printableLines(line));

  return {
    quiet,
    mask,
    addSecret(value) {
      secrets.add(value);
    },
    debug(message) {
      if (options.debug) write(mask(`debug: ${message}`));
    },
    info(message) {
      if (!quiet) write(mask(message));
    },
    warn(message) {
      write(mask(`warning: ${message}`));
    },
    error(message) {
      write(mask(`error: ${message}`));
    },
  };
}
