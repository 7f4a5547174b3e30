/**
 * PAX extended header records (`"<length> <key>=<value>\n"`), read strictly, and the records this reader
 * refuses because tar readers apply them differently.
 * Spec: https://pubs.opengroup.org/onlinepubs/9699919799/utilities/pax.html#tag_20_92_13_03
 * Go's reading: src/archive/tar/reader.go (parsePAX, mergePAX, readGNUSparsePAXHeaders).
 */
import { ambiguous, corrupt } from "./tar-problem.js";

/** The records that change which file an entry is and where its data lies. */
const STRUCTURAL_KEYS = ["path", "linkpath", "size"] as const;

/**
 * Sparse files (GNU.sparse.*, and star's SCHILY.sparse/realsize) store data that is not the entry's
 * bytes, and GNU sparse 0.1 renames the entry (GNU.sparse.name wins over `path` in Go's archive/tar, not
 * in older readers). Multi-volume records describe a part of a file. No image tarball has either.
 */
const SPARSE_OR_VOLUME = /^(GNU\.sparse\.|GNU\.volume\.|SCHILY\.sparse|SCHILY\.realsize)/;

/**
 * The records of one extended header, in order; malformed records are refused (Go's archive/tar and GNU
 * tar both refuse them, so every reader agrees the file is broken).
 */
export function parsePaxRecords(data: Buffer, offset: number): Map<string, string> {
  const records = new Map<string, string>();
  let at = 0;
  while (at < data.length) {
    const malformed = (why: string) =>
      corrupt(`the PAX header at offset ${offset} has a malformed record at byte ${at} (${why})`);
    const space = data.indexOf(0x20, at);
    const lengthText = space === -1 ? "" : data.subarray(at, space).toString("latin1");
    if (!/^[0-9]{1,8}$/.test(lengthText)) throw malformed("no decimal length");
    const length = Number.parseInt(lengthText, 10);
    const end = at + length;
    if (end > data.length || end <= space + 1 || data[end - 1] !== 0x0a)
      throw malformed("the length does not end at a newline");
    const record = data.subarray(space + 1, end - 1);
    const equals = record.indexOf(0x3d);
    if (equals <= 0) throw malformed("no key=value");
    const key = record.subarray(0, equals).toString("utf8");
    const value = record.subarray(equals + 1).toString("utf8");
    // A key given twice: the last counts, for Go's archive/tar, GNU tar and Python's tarfile alike.
    records.set(key, value);
    at = end;
  }
  return records;
}

/**
 * Refuses the records of an extended (`x`) or global (`g`) header that readers apply differently:
 * - any sparse or multi-volume record;
 * - in a global header, path, linkpath or size: GNU tar applies a global header to every entry after
 *   it, Go's archive/tar returns it as an entry of its own and applies nothing;
 * - an empty path, linkpath or size: Go deletes the record (the header's own field counts), GNU tar
 *   uses the empty value;
 * - a NUL in a path or linkpath: Go refuses the file, GNU tar cuts the name at the NUL.
 */
export function checkPaxRecords(records: Map<string, string>, kind: "x" | "g", offset: number): void {
  const header = `the PAX ${kind === "g" ? "global" : "extended"} header at offset ${offset}`;
  for (const [key, value] of records) {
    if (SPARSE_OR_VOLUME.test(key)) {
      throw ambiguous(
        `${header} has the sparse-file record ${key}=${value}: sparse entries are renamed and re-sized differently by different readers, and image tarballs never hold sparse files`,
      );
    }
    if (!(STRUCTURAL_KEYS as readonly string[]).includes(key)) continue;
    if (kind === "g") {
      throw ambiguous(
        `${header} sets ${key}=${value}: GNU tar applies it to every entry that follows, Go's archive/tar (docker, containerd, skopeo) ignores it`,
      );
    }
    if (value === "") {
      throw ambiguous(
        `${header} has an empty ${key}: Go's archive/tar then uses the header's own field, GNU tar the empty value`,
      );
    }
    if (key !== "size" && value.includes("\0")) {
      throw ambiguous(
        `${header} has a ${key} with a NUL byte (${JSON.stringify(value)}): GNU tar cuts the name there, Go's archive/tar refuses it`,
      );
    }
    // Decimal digits only: Number() would also take "0x2bc" or "7e2", which Go's archive/tar refuses.
    if (key === "size" && !(/^[0-9]+$/.test(value) && Number.isSafeInteger(Number(value)))) {
      throw corrupt(`${header} has a malformed size "${value}"`);
    }
  }
}
