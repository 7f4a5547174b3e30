/**
 * One 512-byte tar header, read field by field the way Go's archive/tar and GNU tar read it, and refused
 * where the two would read it differently. Layout:
 * https://pubs.opengroup.org/onlinepubs/9699919799/utilities/pax.html#tag_20_92_13_06 and
 * https://www.gnu.org/software/tar/manual/html_node/Standard.html
 */
import { ambiguous, corrupt } from "./tar-problem.js";

export const BLOCK = 512;

/** What a header says before any PAX record or GNU long name is applied to it. */
export interface HeaderBlock {
  typeflag: string;
  /** The name field, with the POSIX ustar prefix joined in front when the header is ustar. */
  name: string;
  linkname: string;
  /** The size field (octal, or GNU base-256). */
  size: number;
}

/**
 * A numeric field: octal text, or GNU base-256 when the top bit of the first byte is set. NaN when it is
 * neither, negative, or too large to be exact (a size past 2^53 bytes is no image's).
 */
function readNumber(block: Buffer, start: number, length: number, base256 = true): number {
  const first = block[start] ?? 0;
  if (first & 0x80) {
    // Base-256, big-endian, two's complement: a set second bit is a negative number, never a size.
    if (!base256 || first & 0x40) return Number.NaN;
    let value = first & 0x3f;
    for (let i = start + 1; i < start + length; i++) value = value * 256 + (block[i] ?? 0);
    return Number.isSafeInteger(value) ? value : Number.NaN;
  }
  const text = block
    .subarray(start, start + length)
    .toString("latin1")
    .replace(/[\0 ]+$/, "")
    .replace(/^[ ]+/, "");
  if (text === "") return 0;
  if (!/^[0-7]+$/.test(text)) return Number.NaN;
  const value = Number.parseInt(text, 8);
  return Number.isSafeInteger(value) ? value : Number.NaN;
}

/** A NUL-terminated text field (or the whole field when it has no NUL), as C readers and Go read it. */
export function readString(block: Buffer, start: number, length: number): string {
  const field = block.subarray(start, start + length);
  const end = field.indexOf(0);
  return field.subarray(0, end === -1 ? length : end).toString("utf8");
}

export function isZeroBlock(block: Buffer): boolean {
  for (let i = 0; i < BLOCK; i++) if (block[i] !== 0) return false;
  return true;
}

/**
 * The header checksum: the sum of its bytes with the checksum field read as spaces, unsigned or signed
 * (old writers summed signed chars). The field is octal only, as Go reads it.
 */
export function checksumMatches(block: Buffer): boolean {
  const recorded = readNumber(block, 148, 8, false);
  if (Number.isNaN(recorded)) return false;
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < BLOCK; i++) {
    const byte = i >= 148 && i < 156 ? 0x20 : (block[i] ?? 0);
    unsigned += byte;
    signed += byte > 127 ? byte - 256 : byte;
  }
  return recorded === unsigned || recorded === signed;
}

/**
 * The fields of a header whose checksum matched. `offset` is for messages.
 *
 * The ustar prefix: Go and GNU tar both join it to the name when the magic is "ustar\0"; GNU's own
 * format ("ustar  \0") keeps times there and has none. Star headers (trailer "tar\0" at byte 508) have
 * a 131-byte prefix followed by times: Go reads 131 bytes there, GNU tar all 155, so a prefix that
 * fills more than 130 bytes of a star header names two different files.
 */
export function parseHeaderBlock(block: Buffer, offset: number): HeaderBlock {
  const size = readNumber(block, 124, 12);
  if (Number.isNaN(size)) throw corrupt(`corrupt tar header at offset ${offset} (bad size field)`);
  let name = readString(block, 0, 100);
  const magic = block.subarray(257, 263).toString("latin1");
  if (magic === "ustar\0") {
    const prefix = readString(block, 345, 155);
    const star = block.subarray(508, 512).toString("latin1") === "tar\0";
    if (star && Buffer.byteLength(prefix) > 130) {
      throw ambiguous(
        `the header at offset ${offset} is a star header whose name prefix "${prefix}" is longer than star's 131-byte prefix field: Go's archive/tar cuts it there, GNU tar reads all of it`,
      );
    }
    if (prefix) name = `${prefix}/${name}`;
  }
  return {
    typeflag: String.fromCharCode(block[156] ?? 0),
    name,
    linkname: readString(block, 157, 100),
    size,
  };
}
