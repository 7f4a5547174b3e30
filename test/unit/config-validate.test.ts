import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { chmod, mkdir, readdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { resolveSettings } from "../../lib/config/resolve.js";
import { UsageError } from "../../lib/errors.js";
import { namesSetting } from "../helpers/setting-names.js";
import { tempDir } from "../helpers/tmp.js";

const REPO = "registry.example.com/team/app";
const DIGEST = `sha256:${"0123456789abcdef".repeat(4)}`;

async function workdir(t: { after: (fn: () => Promise<void>) => void }): Promise<string> {
  const dir = await tempDir("config-validate-");
  t.after(dir.remove);
  await writeFile(join(dir.path, "image.tar"), "not really a tarball");
  await mkdir(join(dir.path, "folder"));
  await writeFile(join(dir.path, "plain-file"), "x");
  execFileSync("mkfifo", [join(dir.path, "fifo")]);
  return dir.path;
}

/** Each invalid combination, the settings its message must name, and what else it must say. */
const INVALID: [string, NodeJS.ProcessEnv, RegExp[], string[]][] = [
  [
    "a source tarball that does not exist",
    { PLUGIN_PUSH_ONLY: "true", PLUGIN_SOURCE_TAR_PATH: "missing.tar" },
    [/PLUGIN_SOURCE_TAR_PATH: .*missing\.tar does not exist/],
    ["PLUGIN_SOURCE_TAR_PATH"],
  ],
  [
    // A folder is an OCI layout (the archive reader says when it is not one); a FIFO is neither.
    "a source tarball that is a FIFO",
    { PLUGIN_PUSH_ONLY: "true", PLUGIN_SOURCE_TAR_PATH: "fifo" },
    [/PLUGIN_SOURCE_TAR_PATH: .*fifo is neither a regular file nor a folder/],
    ["PLUGIN_SOURCE_TAR_PATH"],
  ],
  [
    "a source platform that is not os/arch[/variant]",
    { PLUGIN_PUSH_ONLY: "true", PLUGIN_SOURCE_TAR_PATH: "image.tar", PLUGIN_SOURCE_PLATFORM: "amd64" },
    [/PLUGIN_SOURCE_PLATFORM is "amd64": give one platform as os\/arch or os\/arch\/variant/],
    ["PLUGIN_SOURCE_PLATFORM"],
  ],
  [
    "a source platform list",
    {
      PLUGIN_PUSH_ONLY: "true",
      PLUGIN_SOURCE_TAR_PATH: "image.tar",
      PLUGIN_SOURCE_PLATFORM: "linux/amd64,linux/arm64",
    },
    [/PLUGIN_SOURCE_PLATFORM is "linux\/amd64,linux\/arm64"/],
    ["PLUGIN_SOURCE_PLATFORM"],
  ],
  [
    "no repo for a push",
    { PLUGIN_REPO: "" },
    [/PLUGIN_REPO is not set, and the image is pushed to it/],
    ["PLUGIN_REPO"],
  ],
  [
    "no repo for push-only",
    { PLUGIN_REPO: "", PLUGIN_PUSH_ONLY: "true", PLUGIN_SOURCE_TAR_PATH: "image.tar" },
    [/PLUGIN_REPO is not set, and push-only pushes to it/],
    ["PLUGIN_REPO"],
  ],
  [
    "no repo to load under",
    { PLUGIN_REPO: "", PLUGIN_DRY_RUN: "true", PLUGIN_BUILDX_LOAD: "true" },
    [/PLUGIN_REPO is not set, and PLUGIN_BUILDX_LOAD loads the image under it/],
    ["PLUGIN_REPO"],
  ],
  [
    "a repo that is not a name",
    { PLUGIN_REPO: "Team/App" },
    [/PLUGIN_REPO "Team\/App" is not a valid/],
    ["PLUGIN_REPO"],
  ],
  [
    "a repo with a tag",
    { PLUGIN_REPO: "team/app:1.0" },
    [/PLUGIN_REPO "team\/app:1.0" has a tag/],
    ["PLUGIN_REPO"],
  ],
  [
    // A cloud login is for the host its name says; a URL reads this one as evil.example.
    "a registry that a URL reads as another host",
    { PLUGIN_REGISTRY: "evil.example#.gcr.io", PLUGIN_JSON_KEY: '{"type": "service_account"}' },
    [/PLUGIN_REGISTRY names the registry "evil\.example#\.gcr\.io", whose host .* is not a registry host/],
    ["PLUGIN_REGISTRY"],
  ],
  [
    "an Artifact Registry location that makes such a registry",
    { PLUGIN_LOCATION: "evil.example?" },
    [/PLUGIN_LOCATION names the registry "evil\.example\?-docker\.pkg\.dev"/],
    // The registry comes from PLUGIN_LOCATION here: the setting the refusal names is that one.
    ["PLUGIN_LOCATION"],
  ],
  [
    "a registry with credentials in it, which the message does not repeat",
    { PLUGIN_REGISTRY: "https://ci:Pa55word-in-url@registry.example.com" },
    [/PLUGIN_REGISTRY has credentials before an @ in it/, /^(?![\s\S]*Pa55word-in-url)/],
    ["PLUGIN_REGISTRY"],
  ],
  [
    "a base-image registry that is no host",
    { PLUGIN_BASE_IMAGE_REGISTRY: "mirror.example.com#x" },
    [/PLUGIN_BASE_IMAGE_REGISTRY names the registry "mirror\.example\.com#x"/],
    ["PLUGIN_BASE_IMAGE_REGISTRY"],
  ],
  [
    "a tag that is not a tag",
    { PLUGIN_TAGS: "ok,not ok" },
    [/PLUGIN_TAGS: "not ok" is not a valid tag/],
    ["PLUGIN_TAGS"],
  ],
  [
    "a tag that starts with a dot",
    { PLUGIN_TAG: ".hidden" },
    [/PLUGIN_TAG: ".hidden" is not a valid tag/],
    ["PLUGIN_TAGS"],
  ],
  ["a tag that is too long", { PLUGIN_TAGS: "a".repeat(129) }, [/is not a valid tag/], ["PLUGIN_TAGS"]],
  [
    "an output format other than docker/oci",
    { PLUGIN_BUILDX_OUTPUT_FORMAT: "tar" },
    [/PLUGIN_BUILDX_OUTPUT_FORMAT is "tar": the tarball format is docker or oci/],
    ["PLUGIN_BUILDX_OUTPUT_FORMAT"],
  ],
  [
    "a tar path whose folder is a file",
    { PLUGIN_DRY_RUN: "true", PLUGIN_TAR_PATH: "plain-file/sub/image.tar" },
    [/PLUGIN_TAR_PATH: .*plain-file is a file, so the folder .* cannot be created/],
    ["PLUGIN_TAR_PATH"],
  ],
  [
    "a tar path that is a folder",
    { PLUGIN_DRY_RUN: "true", PLUGIN_DESTINATION_TAR_PATH: "folder" },
    [/PLUGIN_DESTINATION_TAR_PATH: .*folder is a folder/],
    ["PLUGIN_TAR_PATH"],
  ],
  [
    "an expected digest that is not one",
    { PLUGIN_EXPECTED_DIGEST: "sha256:abc" },
    [/PLUGIN_EXPECTED_DIGEST is "sha256:abc"/, /sha256:<64/],
    ["PLUGIN_EXPECTED_DIGEST"],
  ],
  [
    "push via something else",
    { PLUGIN_PUSH_VIA: "carrier-pigeon" },
    [/PLUGIN_PUSH_VIA is "carrier-pigeon"/],
    ["PLUGIN_PUSH_VIA"],
  ],
  [
    "a registry CA that is missing",
    { PLUGIN_REGISTRY_CA: "ca.pem" },
    [/PLUGIN_REGISTRY_CA: .*ca\.pem does not exist/],
    ["PLUGIN_REGISTRY_CA"],
  ],
  [
    "a registry CA that is not PEM",
    { PLUGIN_REGISTRY_CA: "plain-file" },
    [/PLUGIN_REGISTRY_CA: .*plain-file holds no PEM certificate/],
    ["PLUGIN_REGISTRY_CA"],
  ],
  [
    "a config that is broken JSON",
    { PLUGIN_CONFIG: '{"auths": ' },
    [/PLUGIN_CONFIG starts with "\{" but is not valid JSON/],
    ["PLUGIN_CONFIG"],
  ],
  [
    "a bake file with push-only (the plugin refuses this too)",
    { PLUGIN_BAKE_FILE: "plain-file", PLUGIN_PUSH_ONLY: "true", PLUGIN_SOURCE_TAR_PATH: "image.tar" },
    [/^PLUGIN_BAKE_FILE and PLUGIN_PUSH_ONLY cannot be used together/],
    ["PLUGIN_BAKE_FILE", "PLUGIN_PUSH_ONLY"],
  ],
  [
    "a bake file that is missing",
    { PLUGIN_BAKE_FILE: "docker-bake.hcl" },
    [/PLUGIN_BAKE_FILE: .*docker-bake\.hcl does not exist/],
    ["PLUGIN_BAKE_FILE"],
  ],
  [
    "a config path that is missing",
    { PLUGIN_CONFIG: "nope/config.json" },
    [/PLUGIN_CONFIG is neither/],
    ["PLUGIN_CONFIG"],
  ],
  [
    "a GCR key that is no key",
    { PLUGIN_REGISTRY: "gcr.io/my-project", PLUGIN_REPO: "app", PLUGIN_JSON_KEY: "my-Key-Text" },
    [/^PLUGIN_JSON_KEY is neither the key's JSON nor standard base64 of it/, /^(?!.*my-Key-Text)/s],
    ["PLUGIN_JSON_KEY"],
  ],
  [
    "an Artifact Registry key that is base64 of no JSON, named as the variable that gave it",
    {
      PLUGIN_REGISTRY: "us-docker.pkg.dev/my-project",
      PLUGIN_REGISTRY_TYPE: "gar",
      PLUGIN_REPO: "repo/app",
      GOOGLE_CREDENTIALS: Buffer.from("key text").toString("base64"),
    },
    [/^GOOGLE_CREDENTIALS is base64, but of something that is not the key's JSON/],
    ["PLUGIN_JSON_KEY"],
  ],
  [
    "a signing key that does not exist",
    { PLUGIN_SIGN_KEY: "missing.key" },
    [/PLUGIN_SIGN_KEY: .*missing\.key does not exist: give the path of the cosign key/],
    ["PLUGIN_SIGN_KEY"],
  ],
  [
    "a signing key that is a folder",
    { PLUGIN_SIGN_KEY: "folder" },
    [/PLUGIN_SIGN_KEY: .*folder is not a regular file/],
    ["PLUGIN_SIGN_KEY"],
  ],
  [
    "signing with bake",
    { PLUGIN_SIGN_KEY: "plain-file", PLUGIN_BAKE_FILE: "plain-file" },
    [/PLUGIN_SIGN_KEY and PLUGIN_BAKE_FILE: bake pushes several targets, which this tool does not sign/],
    ["PLUGIN_SIGN_KEY", "PLUGIN_BAKE_FILE"],
  ],
  [
    "an attestation without a key",
    { PLUGIN_ATTEST_PREDICATE: "plain-file", PLUGIN_ATTEST_TYPE: "vuln" },
    [/PLUGIN_ATTEST_PREDICATE is set but PLUGIN_SIGN_KEY is not/],
    ["PLUGIN_ATTEST_PREDICATE", "PLUGIN_SIGN_KEY"],
  ],
  [
    "an attestation predicate that does not exist",
    { PLUGIN_SIGN_KEY: "plain-file", PLUGIN_ATTEST_PREDICATE: "report.json" },
    [/PLUGIN_ATTEST_PREDICATE: .*report\.json does not exist: give the file to attest/],
    ["PLUGIN_ATTEST_PREDICATE"],
  ],
  [
    "an attestation type without a predicate",
    { PLUGIN_SIGN_KEY: "plain-file", PLUGIN_ATTEST_TYPE: "vuln" },
    [/PLUGIN_ATTEST_TYPE is set but PLUGIN_ATTEST_PREDICATE is not/],
    ["PLUGIN_ATTEST_TYPE"],
  ],
  [
    "an attestation type cosign does not know",
    { PLUGIN_SIGN_KEY: "plain-file", PLUGIN_ATTEST_PREDICATE: "plain-file", PLUGIN_ATTEST_TYPE: "trivy" },
    [/PLUGIN_ATTEST_TYPE is "trivy": give one of cosign's predicate types \(custom, vuln, .*\) or a URI/],
    ["PLUGIN_ATTEST_TYPE"],
  ],
];

for (const [name, env, patterns, subjects] of INVALID) {
  test(`invalid: ${name}`, async (t) => {
    const cwd = await workdir(t);
    const before = await readdir(cwd);
    await assert.rejects(
      resolveSettings({ env: { PLUGIN_REPO: REPO, ...env }, flags: [], cwd }),
      (error: unknown) => {
        assert.ok(error instanceof UsageError, String(error));
        assert.equal(error.exitCode, 2);
        for (const pattern of patterns) assert.match(error.message, pattern);
        for (const subject of subjects)
          assert.ok(namesSetting(error, subject), `${subject} in ${error.message}`);
        return true;
      },
    );
    // Validation only looks: nothing was created.
    assert.deepEqual(await readdir(cwd), before);
  });
}

test("push-only and dry run together: push-only wins, with a warning naming both as they were set", async (t) => {
  const cwd = await workdir(t);
  await writeFile(join(cwd, "stage.ini"), "no_push = true\n");
  // A stage-level dry run (the settings file here) and a step's push-only: the plugin pushes.
  const resolved = await resolveSettings({
    env: { PLUGIN_REPO: REPO, PLUGIN_SETTINGS_FILE: "stage.ini", PLUGIN_SOURCE_TAR_PATH: "image.tar" },
    flags: [{ setting: "pushOnly", flag: "push", value: true }],
    cwd,
  });
  assert.equal(resolved.settings.pushOnly, true);
  assert.equal(resolved.settings.dryRun, false);
  assert.match(resolved.sources.dryRun?.note ?? "", /overridden by PLUGIN_PUSH_ONLY \(flag push\)/);
  assert.ok(
    resolved.warnings.some((w) =>
      /PLUGIN_PUSH_ONLY \(flag push\) and PLUGIN_DRY_RUN \(file .*stage\.ini\) are both true: this step pushes/.test(
        w,
      ),
    ),
    resolved.warnings.join("\n"),
  );
  for (const env of [
    { PLUGIN_PUSH_ONLY: "true", PLUGIN_DRY_RUN: "true" },
    { PLUGIN_PUSH_ONLY: "true", PLUGIN_NO_PUSH: "1" },
  ]) {
    const both = await resolveSettings({
      env: { PLUGIN_REPO: REPO, PLUGIN_SOURCE_TAR_PATH: "image.tar", ...env },
      flags: [],
      cwd,
    });
    assert.equal(both.settings.dryRun, false);
    const alias = "PLUGIN_NO_PUSH" in env ? "PLUGIN_NO_PUSH" : "PLUGIN_DRY_RUN";
    assert.ok(
      both.warnings.some((w) => w.startsWith(`PLUGIN_PUSH_ONLY and ${alias} are both true`)),
      both.warnings.join("\n"),
    );
  }
});

test("signing settings: a key in a dry run is a warning, not an error; a key's content never on the command line", async (t) => {
  const cwd = await workdir(t);
  const dry = await resolveSettings({
    env: { PLUGIN_REPO: REPO, PLUGIN_DRY_RUN: "true", PLUGIN_SIGN_KEY: "plain-file" },
    flags: [],
    cwd,
  });
  assert.ok(
    dry.warnings.some((w) => /PLUGIN_SIGN_KEY is set but PLUGIN_DRY_RUN is true: nothing is pushed/.test(w)),
    dry.warnings.join("\n"),
  );
  const valid = await resolveSettings({
    env: {
      PLUGIN_REPO: REPO,
      PLUGIN_SIGN_KEY: "plain-file",
      PLUGIN_ATTEST_PREDICATE: "plain-file",
      PLUGIN_ATTEST_TYPE: "https://example.com/predicate/v1",
    },
    flags: [],
    cwd,
  });
  assert.equal(valid.settings.attestType, "https://example.com/predicate/v1");
  await assert.rejects(
    resolveSettings({
      env: { PLUGIN_REPO: REPO },
      flags: [{ setting: "signKey", flag: "--sign-key", value: "-----BEGIN PRIVATE KEY-----\nMIG\n" }],
      cwd,
    }),
    /PLUGIN_SIGN_KEY \(flag --sign-key\) takes the path of the key file: a key.s content must not be on the command line/,
  );
});

test("push-only without a tarball is valid: it pushes PLUGIN_REPO:tag from the engine", async (t) => {
  const cwd = await workdir(t);
  const resolved = await resolveSettings({
    env: { PLUGIN_REPO: REPO, PLUGIN_PUSH_ONLY: "true" },
    flags: [],
    cwd,
  });
  assert.equal(resolved.settings.pushOnly, true);
  assert.equal(resolved.settings.sourceTarPath, undefined);
});

test("bake needs no PLUGIN_REPO or tags: the bake file names its images", async (t) => {
  const cwd = await workdir(t);
  const resolved = await resolveSettings({
    env: { PLUGIN_BAKE_FILE: "plain-file", PLUGIN_TAGS: "" },
    flags: [],
    cwd,
  });
  assert.equal(resolved.settings.bakeFile, join(cwd, "plain-file"));
  assert.equal(resolved.settings.repo, undefined);
});

test("several problems are reported together", async (t) => {
  const cwd = await workdir(t);
  await assert.rejects(
    resolveSettings({
      env: { PLUGIN_REPO: "BAD", PLUGIN_TAGS: "a b", PLUGIN_BUILDX_OUTPUT_FORMAT: "zip" },
      flags: [],
      cwd,
    }),
    (error: unknown) =>
      error instanceof UsageError &&
      /^3 settings are invalid:/.test(error.message) &&
      /PLUGIN_REPO/.test(error.message) &&
      /PLUGIN_TAGS/.test(error.message) &&
      /PLUGIN_BUILDX_OUTPUT_FORMAT/.test(error.message),
  );
});

test("a tar path in folders that do not exist yet is fine, and they are not created", async (t) => {
  const cwd = await workdir(t);
  const before = await readdir(cwd);
  const { settings } = await resolveSettings({
    env: { PLUGIN_NO_PUSH: "true", PLUGIN_TAR_PATH: "a/b/c/image.tar" },
    flags: [],
    cwd,
  });
  assert.equal(settings.tarPath, join(cwd, "a/b/c/image.tar"));
  assert.deepEqual(await readdir(cwd), before);
});

test("a tar path under a folder that is not writable is refused", {
  skip: process.getuid?.() === 0,
}, async (t) => {
  const cwd = await workdir(t);
  await chmod(join(cwd, "folder"), 0o555);
  t.after(() => chmod(join(cwd, "folder"), 0o755));
  await assert.rejects(
    resolveSettings({
      env: { PLUGIN_NO_PUSH: "true", PLUGIN_TAR_PATH: "folder/x/image.tar" },
      flags: [],
      cwd,
    }),
    /not writable/,
  );
});

test("valid combinations pass", async (t) => {
  const cwd = await workdir(t);
  const valid: NodeJS.ProcessEnv[] = [
    { PLUGIN_REPO: REPO },
    { PLUGIN_REPO: "localhost:5000/app", PLUGIN_TAGS: "v1.0,latest,_x" },
    { PLUGIN_NO_PUSH: "true" },
    { PLUGIN_NO_PUSH: "true", PLUGIN_TAR_PATH: "out/image.tar", PLUGIN_BUILDX_OUTPUT_FORMAT: "oci" },
    {
      PLUGIN_REPO: REPO,
      PLUGIN_PUSH_ONLY: "true",
      PLUGIN_SOURCE_TAR_PATH: "image.tar",
      PLUGIN_EXPECTED_DIGEST: DIGEST,
    },
    {
      PLUGIN_REPO: REPO,
      PLUGIN_PUSH_ONLY: "true",
      PLUGIN_SOURCE_IMAGE: "app:built",
      PLUGIN_PUSH_VIA: "daemon",
    },
    { PLUGIN_REPO: REPO, PLUGIN_CONFIG: '{"auths":{}}' },
    // An OCI layout folder, standard input, and a platform of the image.
    { PLUGIN_REPO: REPO, PLUGIN_PUSH_ONLY: "true", PLUGIN_SOURCE_TAR_PATH: "folder" },
    { PLUGIN_REPO: REPO, PLUGIN_PUSH_ONLY: "true", PLUGIN_SOURCE_TAR_PATH: "-" },
    {
      PLUGIN_REPO: REPO,
      PLUGIN_PUSH_ONLY: "true",
      PLUGIN_SOURCE_TAR_PATH: "image.tar",
      PLUGIN_SOURCE_PLATFORM: "linux/arm/v7",
    },
  ];
  for (const env of valid) {
    const resolved = await resolveSettings({ env, flags: [], cwd });
    assert.ok(resolved.settings, JSON.stringify(env));
  }
});

test("- is standard input, not a file named - in the working folder", async (t) => {
  const cwd = await workdir(t);
  const { settings } = await resolveSettings({
    env: { PLUGIN_REPO: REPO, PLUGIN_PUSH_ONLY: "true", PLUGIN_SOURCE_TAR_PATH: "-" },
    flags: [],
    cwd,
  });
  assert.equal(settings.sourceTarPath, "-");
});

test("a validation error carries the setting as the user set it, for --json", async (t) => {
  const cwd = await workdir(t);
  await assert.rejects(
    resolveSettings({
      env: { PLUGIN_REPO: REPO, PLUGIN_PUSH_ONLY: "true", PLUGIN_SOURCE_TAR_PATH: "image.tar" },
      flags: [{ setting: "sourcePlatform", flag: "--platform", value: "x86" }],
      cwd,
    }),
    (error: unknown) => error instanceof UsageError && error.setting === "--platform",
  );
});
