/**
 * Everything signing needs, made before anything runs (issue 15.4): the key read and opened with its
 * password, its kind checked, and the predicate file read in the form its type takes. Bad input here is a
 * UsageError (exit 2): nothing was built, loaded or pushed. Undefined when no key is set.
 *
 * The key's bytes are read into this process only: never copied to a file, never passed to a command.
 */
import { open } from "node:fs/promises";
import { pluginSettingNames, type SettingNames } from "../config/provenance.js";
import { isPemContent } from "../config/schema.js";
import type { Settings } from "../config/settings.js";
import { UsageError } from "../errors.js";
import { PredicateError, predicateOf } from "./predicate.js";
import { type PredicateType, predicateType } from "./predicate-types.js";
import { loadSigningKey, type SigningKey, SigningKeyError } from "./signing-key.js";

/** A key file is a few hundred bytes; more is not a key. */
const MAX_KEY_BYTES = 64 * 1024;
/** The largest predicate attested: a scanner's report of a large image is a few MiB. */
const MAX_PREDICATE_BYTES = 32 * 1024 * 1024;

export interface SigningPlan {
  key: SigningKey;
  /** Where the key came from, for the log: its path, or the variable that holds it. */
  keySource: string;
  attestation?: {
    type: PredicateType;
    /** The statement's predicate. */
    predicate: unknown;
    file: string;
  };
}

/** Reads a file whole if it is at most `limit` bytes; undefined when it is larger. */
async function readBounded(
  path: string,
  limit: number,
): Promise<{ bytes: Buffer; modified: Date } | undefined> {
  const handle = await open(path, "r");
  try {
    const info = await handle.stat();
    if (info.size > limit) return undefined;
    const bytes = Buffer.alloc(info.size);
    const { bytesRead } = await handle.read(bytes, 0, info.size, 0);
    return { bytes: bytes.subarray(0, bytesRead), modified: info.mtime };
  } finally {
    await handle.close();
  }
}

function unreadable(setting: string, path: string, error: unknown): UsageError {
  const code = (error as NodeJS.ErrnoException).code ?? String(error);
  return new UsageError(`${setting}: cannot read ${path} (${code}); nothing was pushed`, setting);
}

const KEY_HINTS: Record<SigningKeyError["problem"], (names: SettingNames) => string> = {
  "not-a-key": () =>
    "give the cosign.key that cosign generate-key-pair writes, or a PKCS#8 PEM ECDSA P-256 key",
  "password-missing": () =>
    "set PLUGIN_SIGN_PASSWORD (or COSIGN_PASSWORD) to the password the key was made with",
  "password-wrong": (names) => `check ${names("signPassword")}: it is not the key's password`,
  "unsupported-key": () =>
    "cosign verify --key checks ECDSA P-256 signatures with SHA-256: make a key with cosign generate-key-pair",
};

async function loadKey(
  settings: Settings,
  names: SettingNames,
): Promise<{ key: SigningKey; source: string }> {
  const value = settings.signKey as string;
  const setting = names("signKey");
  let text: string;
  let source: string;
  if (isPemContent(value)) {
    text = value;
    source = `the key in ${setting}`;
  } else {
    let read: Awaited<ReturnType<typeof readBounded>>;
    try {
      read = await readBounded(value, MAX_KEY_BYTES);
    } catch (error) {
      throw unreadable(setting, value, error);
    }
    if (!read)
      throw new UsageError(
        `${setting}: ${value} is larger than a key file (${MAX_KEY_BYTES / 1024} KiB): give the path of cosign.key; nothing was pushed`,
        setting,
      );
    text = read.bytes.toString("utf8");
    read.bytes.fill(0);
    source = value;
  }
  try {
    return { key: await loadSigningKey(text, settings.signPassword), source };
  } catch (error) {
    if (!(error instanceof SigningKeyError)) throw error;
    throw new UsageError(
      `${setting}: ${source} cannot sign: ${error.message}; ${KEY_HINTS[error.problem](names)}; nothing was pushed`,
      error.problem.startsWith("password") ? names("signPassword") : setting,
    );
  }
}

async function loadPredicate(
  settings: Settings,
  names: SettingNames,
  now: Date,
): Promise<SigningPlan["attestation"]> {
  const file = settings.attestPredicate;
  if (!file) return undefined;
  const setting = names("attestPredicate");
  const type = predicateType(settings.attestType);
  if (!type) {
    throw new UsageError(`${names("attestType")} is "${settings.attestType}": not a predicate type`);
  }
  let read: Awaited<ReturnType<typeof readBounded>>;
  try {
    read = await readBounded(file, MAX_PREDICATE_BYTES);
  } catch (error) {
    throw unreadable(setting, file, error);
  }
  if (!read) {
    throw new UsageError(
      `${setting}: ${file} is larger than ${MAX_PREDICATE_BYTES / 1024 / 1024} MiB, the most this tool attests; nothing was pushed`,
      setting,
    );
  }
  try {
    const predicate = predicateOf(type, { bytes: read.bytes, modified: read.modified, now });
    return { type, predicate, file };
  } catch (error) {
    if (!(error instanceof PredicateError)) throw error;
    throw new UsageError(
      `${setting}: ${file} cannot be attested as ${names("attestType")}=${type.name}: ${error.message}; nothing was pushed`,
      setting,
    );
  }
}

/** The signing plan of a run that pushes, or undefined without a key. Throws UsageError. */
export async function prepareSigning(
  settings: Settings,
  names: SettingNames = pluginSettingNames,
  now: Date = new Date(),
): Promise<SigningPlan | undefined> {
  if (!settings.signKey?.trim()) return undefined;
  const { key, source } = await loadKey(settings, names);
  const attestation = await loadPredicate(settings, names, now);
  return { key, keySource: source, ...(attestation ? { attestation } : {}) };
}
