/**
 * The set of values that must never be printed, and the masking of text against it. A secret leaks in
 * more spellings than its own: a registry that echoes the `Authorization: Basic base64(user:password)`
 * header, a token server that repeats a form body (`password=p%40ss`), a JSON error that escapes a quote.
 * Each registered secret is therefore masked in its plain, URL-encoded, form-encoded, JSON-escaped and
 * base64 spellings. Base64 depends on where the secret starts in the encoded text (its offset modulo 3),
 * so the three alignments are masked: for each, the run of base64 characters that the secret's bytes
 * alone determine (whole 3-byte groups). GitHub's runner masks base64 the same way, for the same reason.
 * One instance serves every logger of a run, so the final error line is masked like every other.
 */

/** Secrets shorter than this are not masked: masking "a" would garble every line and protects nothing. */
const MIN_SECRET_LENGTH = 3;
/** A derived spelling shorter than this is too common a string to mask without garbling text. */
const MIN_DERIVED_LENGTH = 6;

/** The base64 characters that `secret`'s bytes alone determine when it starts at offset `shift` (0-2) of a group. */
function base64Core(secret: Buffer, shift: number, urlSafe: boolean): string {
  const padded = Buffer.concat([Buffer.alloc(shift), secret]);
  const encoded = padded.toString(urlSafe ? "base64url" : "base64");
  // Groups of 3 bytes become 4 characters; keep the groups that hold only the secret's bytes.
  const firstGroup = Math.ceil(shift / 3);
  const endGroup = Math.floor(padded.length / 3);
  return endGroup > firstGroup ? encoded.slice(firstGroup * 4, endGroup * 4) : "";
}

/** Every spelling of `secret` worth masking, the secret itself first. Pure. */
function secretSpellings(secret: string): string[] {
  const spellings = new Set<string>([secret]);
  spellings.add(encodeURIComponent(secret));
  spellings.add(new URLSearchParams({ s: secret }).toString().slice(2));
  spellings.add(JSON.stringify(secret).slice(1, -1));
  const bytes = Buffer.from(secret, "utf8");
  // Whole, as a Basic header or a docker config `auth` field holds it.
  spellings.add(bytes.toString("base64"));
  for (const urlSafe of [false, true]) {
    for (const shift of [0, 1, 2]) spellings.add(base64Core(bytes, shift, urlSafe));
  }
  return [...spellings].filter((s) => s === secret || s.length >= MIN_DERIVED_LENGTH);
}

export class SecretMask {
  readonly #secrets = new Set<string>();
  readonly #spellings = new Set<string>();
  /** The spellings longest first, so a secret that contains another is replaced whole; made on demand. */
  #ordered: string[] | undefined;

  /** Registers a value that must never be printed (passwords, tokens, keys); short values are ignored. */
  add(value: string | undefined): void {
    if (!value || value.length < MIN_SECRET_LENGTH || this.#secrets.has(value)) return;
    this.#secrets.add(value);
    for (const spelling of secretSpellings(value)) this.#spellings.add(spelling);
    this.#ordered = undefined;
  }

  /** `text` with every spelling of every registered secret replaced by `***`. */
  mask(text: string): string {
    if (this.#spellings.size === 0) return text;
    this.#ordered ??= [...this.#spellings].sort((a, b) => b.length - a.length);
    let out = text;
    for (const spelling of this.#ordered) out = out.split(spelling).join("***");
    return out;
  }
}
