/**
 * JSON keys as Go's encoding/json matches them. docker, containerd, skopeo and Trivy decode index.json,
 * manifest.json and manifests into Go structs, and encoding/json matches an object's keys to a struct's
 * fields without regard to case, the last match winning: `{"manifests":[A],"Manifests":[B]}` is B to
 * them and A to JSON.parse. Such a document names two images, so it is refused.
 * https://pkg.go.dev/encoding/json#Unmarshal ("preferring an exact match but also accepting a
 * case-insensitive match")
 */

/**
 * Go folds keys with Unicode simple case folding, in which the Kelvin sign folds to "k" and the long s
 * to "s"; upper- then lower-casing folds those too.
 */
function fold(key: string): string {
  return key.toUpperCase().toLowerCase();
}

/** Objects under these keys are Go maps (string to string), whose keys are matched exactly. */
const MAPS = new Set(["annotations"]);

/**
 * The first two keys of one object, in `value` or below it (at most `maxDepth` objects deep), that are
 * the same key to encoding/json; undefined when there are none.
 */
export function caseFoldedKeys(
  value: unknown,
  maxDepth = Number.POSITIVE_INFINITY,
): [string, string] | undefined {
  if (Array.isArray(value)) {
    for (const item of value) {
      const found = caseFoldedKeys(item, maxDepth);
      if (found) return found;
    }
    return undefined;
  }
  if (value === null || typeof value !== "object" || maxDepth < 1) return undefined;
  const seen = new Map<string, string>();
  for (const key of Object.keys(value)) {
    const other = seen.get(fold(key));
    if (other !== undefined) return [other, key];
    seen.set(fold(key), key);
  }
  for (const [key, child] of Object.entries(value)) {
    if (MAPS.has(fold(key))) continue;
    const found = caseFoldedKeys(child, maxDepth - 1);
    if (found) return found;
  }
  return undefined;
}
