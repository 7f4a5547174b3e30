/**
 * PLUGIN_PATH_STYLE (AWS_PLUGIN_PATH_STYLE) and PLUGIN_CACHE_TLS_INSECURE applied to the cache entries, as
 * the plugin's `sanitizeCacheCommand` does (drone-buildx docker.go,
 * https://github.com/drone-plugins/drone-buildx/blob/master/docker.go), to PLUGIN_CACHE_FROM and
 * PLUGIN_CACHE_TO alike:
 * - path style: `,use_path_style=true` appended to each `type=s3` entry (BuildKit's S3 cache then addresses
 *   `endpoint/bucket/...`, which MinIO and other S3-compatible stores need);
 * - TLS: `,tls_insecure_skip_verify=true` appended to every entry, whatever its type (moby/buildkit reads
 *   this attribute nowhere and ignores it; the plugin added it for Harness's cache, presumably read by
 *   Harness's own BuildKit image, whose source was not found);
 * - an entry that sets the attribute already keeps its value; when that value is `false` the run says that
 *   the setting did not change it, as the plugin prints.
 *
 * Where this differs from the plugin: the type is the entry's `type` attribute (the plugin looks for the
 * text `type=s3` anywhere in the entry), and a bare reference (`user/app:cache`, buildx's short form of
 * `type=registry,ref=user/app:cache`) is written in the long form before an attribute is appended, since
 * buildx refuses `user/app:cache,key=value` ("invalid value"; buildx util/buildflags/cache.go). Pure.
 */
import type { Settings } from "../config/settings.js";
import { csvAttributes, csvField, csvFields } from "./csv.js";

interface CacheEntries {
  cacheFrom: string[];
  cacheTo: string[];
  notes: string[];
}

interface Addition {
  key: string;
  setting: string;
  applies: (type: string | undefined) => boolean;
}

function additions(settings: Pick<Settings, "cachePathStyle" | "cacheTlsInsecure">): Addition[] {
  const list: Addition[] = [];
  // The plugin's order: path style first.
  if (settings.cachePathStyle) {
    list.push({ key: "use_path_style", setting: "PLUGIN_PATH_STYLE", applies: (type) => type === "s3" });
  }
  if (settings.cacheTlsInsecure) {
    list.push({ key: "tls_insecure_skip_verify", setting: "PLUGIN_CACHE_TLS_INSECURE", applies: () => true });
  }
  return list;
}

/** One entry in buildx's long form: a bare reference list becomes one `type=registry` entry per reference. */
function longForm(entry: string): string[] {
  const fields = csvFields(entry);
  if (fields.some((field) => field.includes("="))) return [entry];
  return fields.map((ref) => `type=registry,${csvField(`ref=${ref.trim()}`)}`);
}

function applyTo(entry: string, list: Addition[], notes: string[]): string {
  let result = entry;
  for (const addition of list) {
    const attributes = csvAttributes(result);
    const type = attributes.find((attribute) => attribute.key === "type")?.value?.trim();
    if (!addition.applies(type)) continue;
    const own = attributes.find((attribute) => attribute.key === addition.key);
    if (own) {
      if (own.value?.trim().toLowerCase() === "false") {
        notes.push(
          `${addition.setting} is true, but the cache entry "${entry}" sets ${addition.key}=false: kept`,
        );
      }
      continue;
    }
    result = `${result},${addition.key}=true`;
  }
  return result;
}

export function cacheEntries(
  settings: Pick<Settings, "cacheFrom" | "cacheTo" | "cachePathStyle" | "cacheTlsInsecure">,
): CacheEntries {
  const list = additions(settings);
  const notes: string[] = [];
  if (list.length === 0) return { cacheFrom: [...settings.cacheFrom], cacheTo: [...settings.cacheTo], notes };
  const apply = (entries: readonly string[]) =>
    entries.flatMap((entry) => {
      const long = longForm(entry);
      // A bare reference gets the long form only when something is appended to it.
      const changed = long.map((item) => applyTo(item, list, notes));
      return changed.every((item, i) => item === long[i]) ? [entry] : changed;
    });
  return { cacheFrom: apply(settings.cacheFrom), cacheTo: apply(settings.cacheTo), notes };
}
