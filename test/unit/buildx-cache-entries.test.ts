// PLUGIN_PATH_STYLE and PLUGIN_CACHE_TLS_INSECURE on the cache entries: the rows of drone-buildx's own
// TestSanitizeCacheCommand (docker_test.go) give the same results here, plus the differences this tool makes.
import assert from "node:assert/strict";
import { test } from "node:test";
import { buildxBuildArgs } from "../../lib/buildx/build-args.js";
import { cacheEntries } from "../../lib/buildx/cache-entries.js";
import type { Settings } from "../../lib/config/settings.js";
import { planBuild } from "../../lib/modes/build-plan.js";
import { testResolved } from "../helpers/settings.js";

type Row = [
  string,
  Pick<Settings, "cacheFrom" | "cacheTo" | "cachePathStyle" | "cacheTlsInsecure">,
  string[],
  string[],
];

const off = { cachePathStyle: false, cacheTlsInsecure: false };

const rows: Row[] = [
  [
    "path style: appended to type=s3",
    { ...off, cachePathStyle: true, cacheFrom: ["type=s3,bucket=my-bucket"], cacheTo: [] },
    ["type=s3,bucket=my-bucket,use_path_style=true"],
    [],
  ],
  [
    "path style: use_path_style=false is kept",
    {
      ...off,
      cachePathStyle: true,
      cacheFrom: ["type=s3,bucket=my-bucket,use_path_style=false"],
      cacheTo: ["type=s3,use_path_style=false"],
    },
    ["type=s3,bucket=my-bucket,use_path_style=false"],
    ["type=s3,use_path_style=false"],
  ],
  [
    "path style: already true, untouched",
    { ...off, cachePathStyle: true, cacheFrom: ["type=s3,use_path_style=true"], cacheTo: [] },
    ["type=s3,use_path_style=true"],
    [],
  ],
  [
    "path style: other types untouched",
    { ...off, cachePathStyle: true, cacheFrom: ["type=gcs,bucket=test"], cacheTo: ["type=local"] },
    ["type=gcs,bucket=test"],
    ["type=local"],
  ],
  [
    "path style off: untouched",
    { ...off, cacheFrom: ["type=s3,bucket=my-bucket"], cacheTo: [] },
    ["type=s3,bucket=my-bucket"],
    [],
  ],
  [
    "TLS: appended to every entry, from and to",
    {
      ...off,
      cacheTlsInsecure: true,
      cacheFrom: ["type=s3,bucket=my-bucket"],
      cacheTo: ["type=registry,ref=r.example/app:cache,mode=max"],
    },
    ["type=s3,bucket=my-bucket,tls_insecure_skip_verify=true"],
    ["type=registry,ref=r.example/app:cache,mode=max,tls_insecure_skip_verify=true"],
  ],
  [
    "TLS: an entry's own value is kept",
    {
      ...off,
      cacheTlsInsecure: true,
      cacheFrom: ["type=s3,bucket=my-bucket,tls_insecure_skip_verify=false"],
      cacheTo: ["type=s3,tls_insecure_skip_verify=true"],
    },
    ["type=s3,bucket=my-bucket,tls_insecure_skip_verify=false"],
    ["type=s3,tls_insecure_skip_verify=true"],
  ],
  [
    "both: path style first, then TLS",
    {
      cachePathStyle: true,
      cacheTlsInsecure: true,
      cacheFrom: ["type=s3,region=us-east-1,bucket=b,endpoint_url=https://minio:9000"],
      cacheTo: ["type=s3,region=us-east-1,bucket=b,mode=max"],
    },
    [
      "type=s3,region=us-east-1,bucket=b,endpoint_url=https://minio:9000,use_path_style=true,tls_insecure_skip_verify=true",
    ],
    ["type=s3,region=us-east-1,bucket=b,mode=max,use_path_style=true,tls_insecure_skip_verify=true"],
  ],
  [
    "differs from the plugin: the type is the attribute, not any text type=s3",
    {
      ...off,
      cachePathStyle: true,
      cacheFrom: ["type=registry,ref=r.example/type=s3x"],
      cacheTo: ["TYPE=s3,bucket=b"],
    },
    ["type=registry,ref=r.example/type=s3x"],
    ["TYPE=s3,bucket=b,use_path_style=true"],
  ],
  [
    "differs from the plugin: a bare reference is written in the long form before TLS is appended",
    { ...off, cacheTlsInsecure: true, cacheFrom: ["r.example/app:cache"], cacheTo: [] },
    ["type=registry,ref=r.example/app:cache,tls_insecure_skip_verify=true"],
    [],
  ],
  [
    "a bare reference stays bare when nothing is appended (path style is for s3 only)",
    { ...off, cachePathStyle: true, cacheFrom: ["r.example/app:cache"], cacheTo: [] },
    ["r.example/app:cache"],
    [],
  ],
];

for (const [name, settings, from, to] of rows) {
  test(`cache entries: ${name}`, () => {
    const result = cacheEntries(settings);
    assert.deepEqual(result.cacheFrom, from);
    assert.deepEqual(result.cacheTo, to);
  });
}

test("an entry that says false is kept, and the run says the setting did not change it", () => {
  const result = cacheEntries({
    cachePathStyle: true,
    cacheTlsInsecure: true,
    cacheFrom: ["type=s3,bucket=b,use_path_style=false,tls_insecure_skip_verify=false"],
    cacheTo: [],
  });
  assert.deepEqual(result.notes, [
    'PLUGIN_PATH_STYLE is true, but the cache entry "type=s3,bucket=b,use_path_style=false,tls_insecure_skip_verify=false" sets use_path_style=false: kept',
    'PLUGIN_CACHE_TLS_INSECURE is true, but the cache entry "type=s3,bucket=b,use_path_style=false,tls_insecure_skip_verify=false" sets tls_insecure_skip_verify=false: kept',
  ]);
});

test("golden argv: the plan's cache entries are what docker buildx build gets", () => {
  const plan = planBuild(
    testResolved({
      repo: "r.example/app",
      builderDriver: "docker-container",
      cachePathStyle: true,
      cacheTlsInsecure: true,
      cacheFrom: ["type=s3,bucket=b,region=eu-west-1"],
      cacheTo: ["type=s3,bucket=b,region=eu-west-1,mode=max"],
      autoLabel: false,
      pullImage: false,
    }),
    { command: "plugin" },
  );
  const args = buildxBuildArgs(plan.settings, {
    output: { kind: "push" },
    dockerfile: plan.dockerfile,
    context: plan.context,
    imageRefs: plan.imageRefs,
    metadataFile: "/tmp/m.json",
    progress: "plain",
    created: "2026-01-02T03:04:05Z",
  });
  assert.deepEqual(args, [
    "buildx",
    "build",
    "--progress",
    "plain",
    "--file",
    "Dockerfile",
    "--tag",
    "r.example/app:latest",
    "--cache-from",
    "type=s3,bucket=b,region=eu-west-1,use_path_style=true,tls_insecure_skip_verify=true",
    "--cache-to",
    "type=s3,bucket=b,region=eu-west-1,mode=max,use_path_style=true,tls_insecure_skip_verify=true",
    "--push",
    "--metadata-file",
    "/tmp/m.json",
    ".",
  ]);
});
