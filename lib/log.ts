/**
 * The one logger: human-readable lines on stderr (stdout is kept for `--json` results), with every
 * registered secret replaced by `***` before anything is written.
 */
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

export interface LoggerOptions {
  quiet?: boolean;
  debug?: boolean;
  write?: (line: string) => void;
}

/** Secrets shorter than this are not masked: masking "a" would garble every line and protects nothing. */
const MIN_SECRET_LENGTH = 3;

export function createLogger(options: LoggerOptions = {}): Logger {
  const secrets = new Set<string>();
  const write = options.write ?? ((line: string) => process.stderr.write(`${line}\n`));
  const quiet = options.quiet ?? false;

  const mask = (text: string): string => {
    let out = text;
    // Longest first, so a secret that contains another is replaced whole.
    for (const secret of [...secrets].sort((a, b) => b.length - a.length)) {
      out = out.split(secret).join("***");
    }
    return out;
  };

  return {
    quiet,
    mask,
    addSecret(value) {
      if (value && value.length >= MIN_SECRET_LENGTH) secrets.add(value);
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
