/**
 * Names of entries inside an image tarball, normalised the way the formats refer to them
 * (`blobs/sha256/<hex>`, `index.json`, `<id>/layer.tar`), and refused when they try to leave the archive.
 * Nothing is ever extracted, but a name like `../x` or `/etc/x` in an image tarball is a sign of a
 * hostile or broken file, and a path a format refers to must never resolve outside the archive.
 */

/** Why a name was refused, for the error that names the tarball and the entry. */
export class UnsafeEntryName extends Error {
  constructor(readonly entry: string) {
    super(`entry "${entry}" tries to leave the archive (absolute path or ".." segment)`);
    this.name = "UnsafeEntryName";
  }
}

/**
 * `./blobs//sha256/x` -> `blobs/sha256/x`; `./` -> `` (the archive's root); a trailing `/` is dropped.
 * Absolute names and `..` segments throw {@link UnsafeEntryName}.
 */
export function normalizeEntryName(raw: string): string {
  if (raw.startsWith("/") || /^[A-Za-z]:[\\/]/.test(raw) || raw.includes("\0"))
    throw new UnsafeEntryName(raw);
  const parts: string[] = [];
  for (const segment of raw.split("/")) {
    if (segment === "" || segment === ".") continue;
    if (segment === "..") throw new UnsafeEntryName(raw);
    parts.push(segment);
  }
  return parts.join("/");
}

/**
 * The archive path a symbolic link inside the archive points at (legacy `docker save` links repeated
 * layers: `<id>/layer.tar -> ../<other>/layer.tar`). Resolved against the link's folder; a target that
 * would leave the archive throws {@link UnsafeEntryName}.
 */
export function resolveLinkTarget(linkName: string, target: string): string {
  if (target.startsWith("/")) throw new UnsafeEntryName(`${linkName} -> ${target}`);
  const parts = linkName.split("/").slice(0, -1);
  for (const segment of target.split("/")) {
    if (segment === "" || segment === ".") continue;
    if (segment === "..") {
      if (parts.length === 0) throw new UnsafeEntryName(`${linkName} -> ${target}`);
      parts.pop();
    } else {
      parts.push(segment);
    }
  }
  return parts.join("/");
}
