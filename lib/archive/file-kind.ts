/**
 * What a file that is not a tar is, from its first bytes, so that a refusal names it ("a zip archive",
 * "a JSON document") instead of only saying what it is not. Magic numbers as file(1) knows them.
 */
const KINDS: [string, (head: Buffer) => boolean][] = [
  ["a zip archive", (h) => h.subarray(0, 4).equals(Buffer.from([0x50, 0x4b, 0x03, 0x04]))],
  ["a 7-Zip archive", (h) => h.subarray(0, 6).equals(Buffer.from([0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c]))],
  ["an lz4-compressed file", (h) => h.subarray(0, 4).equals(Buffer.from([0x04, 0x22, 0x4d, 0x18]))],
  ["an lzip-compressed file", (h) => h.subarray(0, 4).toString("latin1") === "LZIP"],
  ["an ELF program", (h) => h.subarray(0, 4).equals(Buffer.from([0x7f, 0x45, 0x4c, 0x46]))],
  [
    "a JSON document (a manifest or an index, not an image archive)",
    (h) => /^\s*[[{]/.test(h.subarray(0, 64).toString("latin1")),
  ],
  [
    "an HTML page (a download that returned an error page?)",
    (h) => /^\s*<(!doctype|html)/i.test(h.subarray(0, 64).toString("latin1")),
  ],
];

/** What `head` (a file's first bytes) says the file is, or undefined when it does not tell. */
export function describeFileKind(head: Buffer): string | undefined {
  if (head.length === 0) return "an empty file";
  for (const [kind, test] of KINDS) if (test(head)) return kind;
  // Text: printable ASCII and white space only in what was read.
  if (head.every((byte) => byte === 9 || byte === 10 || byte === 13 || (byte >= 32 && byte < 127)))
    return "a text file";
  return undefined;
}
