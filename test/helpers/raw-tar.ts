/**
 * Tar files written header by header, for tests that need what no well-behaved tar writer produces:
 * base-256 sizes, PAX records of any kind (global, sparse, duplicated), GNU long-name entries, sizes on
 * folders and devices, STAR trailers. Every field is written as given; only the checksum is computed.
 * Layout of a header: https://pubs.opengroup.org/onlinepubs/9699919799/utilities/pax.html#tag_20_92_13_06
 */

export const BLOCK = 512;

export interface HeaderFields {
  name: string;
  /** The size field: what the header claims, whatever data the caller puts after it. Default 0. */
  size?: number;
  /** `0` regular file (default), `5` folder, `2` symlink, `x` PAX, `L` GNU long name, ... */
  typeflag?: string;
  linkname?: string;
  /** `ustar` (POSIX: "ustar\0" "00", the default), `gnu` ("ustar  \0"), or `v7` (no magic). */
  format?: "ustar" | "gnu" | "v7";
  /** The POSIX ustar prefix field (bytes 345-499), joined to the name with a `/` by ustar readers. */
  prefix?: string;
  /** Write the size field in GNU base-256 instead of octal. */
  base256?: boolean;
  /** Write star's "tar\0" trailer at byte 508. */
  starTrailer?: boolean;
}

/** One 512-byte header with the fields given and a correct checksum. */
export function tarHeader(fields: HeaderFields): Buffer {
  const header = Buffer.alloc(BLOCK);
  header.write(fields.name, 0, 100, "utf8");
  header.write("0000644\0", 100);
  header.write("0000000\0", 108);
  header.write("0000000\0", 116);
  const size = fields.size ?? 0;
  if (fields.base256) {
    // GNU: top bit of the first byte set, the value big-endian in the remaining 11 bytes.
    header[124] = 0x80;
    let value = size;
    for (let i = 135; i > 124; i--) {
      header[i] = value % 256;
      value = Math.floor(value / 256);
    }
  } else {
    header.write(`${size.toString(8).padStart(11, "0")}\0`, 124);
  }
  header.write("00000000000\0", 136);
  header.write("        ", 148);
  header.write(fields.typeflag ?? "0", 156);
  if (fields.linkname) header.write(fields.linkname, 157, 100, "utf8");
  const format = fields.format ?? "ustar";
  if (format === "ustar") {
    header.write("ustar\0", 257);
    header.write("00", 263);
  } else if (format === "gnu") {
    header.write("ustar  \0", 257);
  }
  if (fields.prefix) header.write(fields.prefix, 345, 155, "utf8");
  if (fields.starTrailer) header.write("tar\0", 508);
  let sum = 0;
  for (const byte of header) sum += byte;
  header.write(`${sum.toString(8).padStart(6, "0")}\0 `, 148);
  return header;
}

/**
 * A ustar header for `name` whose size field says `size`: the shape most tests need. The checksum is
 * computed; `base256` writes the size in GNU base-256.
 */
export function ustarHeader(
  name: string,
  size: number,
  options: { typeflag?: string; base256?: boolean } = {},
): Buffer {
  return tarHeader({ name, size, ...options });
}

/**
 * A PAX extended header's data: `"<length> <key>=<value>\n"` records. Pairs, not an object, so that a
 * test can repeat a key.
 */
export function paxRecords(records: Record<string, string> | [string, string][]): Buffer {
  const pairs = Array.isArray(records) ? records : Object.entries(records);
  const out: Buffer[] = [];
  for (const [key, value] of pairs) {
    const body = Buffer.from(` ${key}=${value}\n`);
    let length = body.length + 1;
    while (`${length}`.length + body.length !== length) length++;
    out.push(Buffer.from(`${length}`), body);
  }
  return Buffer.concat(out);
}

/** Data padded to the 512-byte tar block. */
export function padBlock(data: Buffer): Buffer {
  return Buffer.concat([data, Buffer.alloc((BLOCK - (data.length % BLOCK)) % BLOCK)]);
}

/** A header and its data, padded: one member of a tar file. The size field is the data's length unless given. */
export function member(fields: HeaderFields, data: Buffer | string = Buffer.alloc(0)): Buffer {
  const bytes = Buffer.from(data);
  return Buffer.concat([tarHeader({ size: bytes.length, ...fields }), padBlock(bytes)]);
}

/** A regular file. */
export function fileMember(name: string, data: Buffer | string): Buffer {
  return member({ name }, data);
}

/** A PAX extended header (`x`, for the next member) or global header (`g`, for every member after it). */
export function paxMember(
  records: Record<string, string> | [string, string][],
  options: { global?: boolean; name?: string } = {},
): Buffer {
  return member(
    {
      name: options.name ?? (options.global ? "pax_global_header" : "PaxHeaders/entry"),
      typeflag: options.global ? "g" : "x",
    },
    paxRecords(records),
  );
}

/** A GNU `././@LongLink` member that names the next member (`L`) or the next link's target (`K`). */
export function gnuLongMember(kind: "L" | "K", value: string): Buffer {
  return member({ name: "././@LongLink", typeflag: kind, format: "gnu" }, Buffer.from(`${value}\0`));
}

/** The two zero blocks that end a tar file. */
export const END_OF_ARCHIVE = Buffer.alloc(2 * BLOCK);

/** Members, then the end-of-archive marker. */
export function tarFile(members: Buffer[]): Buffer {
  return Buffer.concat([...members, END_OF_ARCHIVE]);
}
