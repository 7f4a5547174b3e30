import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { resolveSettings } from "../../lib/config/resolve.js";
import { SETTINGS } from "../../lib/config/schema.js";
import { configReport, formatConfigJson, formatConfigTable, runConfig } from "../../lib/modes/show-config.js";
import { tempDir } from "../helpers/tmp.js";

/** A distinct value for every secret setting (by its first variable), none a substring of another. */
const SECRET_VALUES: Record<string, string> = {
  PLUGIN_PASSWORD: "pw-Tr0ub4dor",
  PLUGIN_CONFIG: '{"auths":{"r.example":{"auth":"c2VjcmV0LWF1dGg="}}}',
  PLUGIN_DOCKER_PASSWORD: "base-pw-c0rrect",
  PLUGIN_SECRET: "id=npm,src=/run/npmrc-s3cr3t",
  PLUGIN_SSH_AGENT_KEY: "ssh-key-h0rse-battery",
  PLUGIN_ACCESS_KEY: "AKIAEXAMPLESECRET1",
  PLUGIN_SECRET_KEY: "wJalrXUtnFEMI-staple",
  PLUGIN_OIDC_TOKEN_ID: "eyJhbGciOi.oidc-t0ken",
  PLUGIN_JSON_KEY: '{"type":"service_account","private_key":"gcp-k3y-pem"}',
  ACCESS_TOKEN: "ya29.gcp-acc3ss-token",
  CLIENT_SECRET: "azure-cl1ent-secret",
  CLIENT_CERTIFICATE: "LS0tLS1CRUdJTi-azure-c3rt",
  SERVICE_PRINCIPAL_CLIENT_SECRET: "acr-sp-passw0rd",
  PLUGIN_SIGN_PASSWORD: "cosign-key-passw0rd",
};

test("every secret setting is covered by the test's values", () => {
  const secretVariables = SETTINGS.filter((s) => s.secret).map((s) => s.env[0]?.name);
  assert.deepEqual(secretVariables.sort(), Object.keys(SECRET_VALUES).sort());
});

test("config never shows a secret: not in the table, not in the JSON", async (t) => {
  const dir = await tempDir("config-show-");
  t.after(dir.remove);
  const resolved = await resolveSettings({
    env: {
      PLUGIN_REPO: "registry.example.com/team/app",
      ...SECRET_VALUES,
      DRONE_REMOTE_URL: "https://ci-bot:gh-t0ken-123@git.example/o/r.git",
    },
    flags: [],
    cwd: dir.path,
  });
  const report = configReport(resolved);
  const table = formatConfigTable(report);
  const json = formatConfigJson(report);
  let written = "";
  assert.equal(await runConfig(resolved, { json: false, write: (s) => (written += s) }), 0);
  assert.equal(await runConfig(resolved, { json: true, write: (s) => (written += s) }), 0);

  for (const output of [table, json, written]) {
    for (const [name, value] of Object.entries(SECRET_VALUES)) {
      assert.ok(!output.includes(value), `${name}'s value appears in the output`);
    }
    assert.ok(!output.includes("gh-t0ken-123"), "URL credentials appear in the output");
  }
  const parsed = JSON.parse(json) as {
    settings: Record<string, { value: unknown; from: string }>;
    run: Record<string, { value: unknown }>;
  };
  for (const key of [
    "password",
    "config",
    "baseImagePassword",
    "secret",
    "sshAgentKey",
    "accessKey",
    "secretKey",
    "oidcTokenId",
  ]) {
    assert.equal(parsed.settings[key]?.value, "***", key);
  }
  assert.equal(parsed.settings.password?.from, "env PLUGIN_PASSWORD");
  assert.equal(parsed.run.remoteUrl?.value, "https://***@git.example/o/r.git");
  assert.match(table, /^password \(PLUGIN_PASSWORD\)\s+\*\*\*\s+env PLUGIN_PASSWORD$/m);
});

test("config shows the signing key's path, never a key given as content, nor its password", async (t) => {
  const dir = await tempDir("config-show-");
  t.after(dir.remove);
  const keyFile = join(dir.path, "cosign.key");
  await writeFile(keyFile, "not read by config");
  const pathRun = await resolveSettings({
    env: { PLUGIN_REPO: "r.example/app", PLUGIN_SIGN_KEY: "cosign.key", COSIGN_PASSWORD: "c0sign-pw" },
    flags: [],
    cwd: dir.path,
  });
  const pathJson = JSON.parse(formatConfigJson(configReport(pathRun))) as {
    settings: Record<string, { value: unknown; from: string }>;
  };
  assert.equal(pathJson.settings.signKey?.value, keyFile, "a relative path is made absolute and shown");
  assert.equal(pathJson.settings.signPassword?.value, "***");
  assert.equal(pathJson.settings.signPassword?.from, "env COSIGN_PASSWORD");

  const body = "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg-s3cret-line";
  const pem = `-----BEGIN PRIVATE KEY-----\n${body}\n-----END PRIVATE KEY-----\n`;
  const contentRun = await resolveSettings({
    env: { PLUGIN_REPO: "r.example/app", PLUGIN_SIGN_KEY: pem },
    flags: [],
    cwd: dir.path,
  });
  assert.equal(contentRun.settings.signKey, pem, "content is not taken for a path");
  const table = formatConfigTable(configReport(contentRun));
  const json = formatConfigJson(configReport(contentRun));
  for (const output of [table, json]) {
    assert.ok(!output.includes(body), "the key's content appears in config's output");
  }
  assert.match(table, /^signKey \(PLUGIN_SIGN_KEY\)\s+\*\*\*\s+env PLUGIN_SIGN_KEY$/m);
});

test("config shows each value with its source: default, file + section, env variable, flag", async (t) => {
  const dir = await tempDir("config-show-");
  t.after(dir.remove);
  const ini = join(dir.path, "stage.ini");
  await writeFile(ini, 'target = base\n[step "build"]\nno_push = true\n');
  const resolved = await resolveSettings({
    env: {
      PLUGIN_REPO: "r.example/app",
      PLUGIN_SETTINGS_FILE: ini,
      DRONE_STEP_NAME: "build",
      PLUGIN_MIRROR: "m",
    },
    flags: [{ setting: "tags", flag: "--tag", value: ["v1", "v2"] }],
    cwd: dir.path,
  });
  const table = formatConfigTable(configReport(resolved));
  assert.match(table, /^SETTING\s+VALUE\s+SOURCE$/m);
  assert.match(table, /^dryRun \(PLUGIN_DRY_RUN\)\s+true\s+file .*stage\.ini \[step "build"\]$/m);
  assert.match(table, /^target \(PLUGIN_TARGET\)\s+base\s+file .*stage\.ini$/m);
  assert.match(table, /^repo \(PLUGIN_REPO\)\s+r\.example\/app\s+env PLUGIN_REPO$/m);
  assert.match(table, /^tags \(PLUGIN_TAGS\)\s+"v1", "v2"\s+flag --tag$/m);
  assert.match(table, /^pushOnly \(PLUGIN_PUSH_ONLY\)\s+false\s+default$/m);
  assert.match(table, /^run\.stepName\s+build\s+env DRONE_STEP_NAME$/m);
  assert.match(table, /^warning: PLUGIN_MIRROR is accepted for compatibility and ignored/m);

  const json = JSON.parse(formatConfigJson(configReport(resolved))) as {
    settings: Record<string, { value: unknown; source: unknown; env?: string }>;
    warnings: string[];
  };
  assert.deepEqual(json.settings.dryRun, {
    value: true,
    source: { kind: "file", path: ini, section: 'step "build"' },
    from: `file ${ini} [step "build"]`,
    env: "PLUGIN_DRY_RUN",
  });
  assert.deepEqual(json.settings.tags?.source, { kind: "flag", name: "--tag" });
  assert.equal(json.warnings.length, 1);
});

test("secretValues lists the value of every secret setting that is set", async (t) => {
  const { secretValues } = await import("../../lib/config/secrets.js");
  const dir = await tempDir("config-show-");
  t.after(dir.remove);
  const resolved = await resolveSettings({
    env: { PLUGIN_REPO: "registry.example.com/team/app", ...SECRET_VALUES, PLUGIN_USERNAME: "not-secret" },
    flags: [],
    cwd: dir.path,
  });
  assert.deepEqual(secretValues(resolved.settings).sort(), Object.values(SECRET_VALUES).sort());
});

test("config shows the build settings of issue 10 with the variable that set them (aliases included)", async (t) => {
  const dir = await tempDir("config-show-");
  t.after(dir.remove);
  await writeFile(join(dir.path, "docker-bake.hcl"), 'target "default" {}\n');
  await writeFile(join(dir.path, "ca.pem"), "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n");
  const resolved = await resolveSettings({
    env: {
      PLUGIN_BUILD_ARGS_FROM_ENV: "GIT_SHA,build_id",
      PLUGIN_BUILDER_DRIVER_OPTS_NEW: "image=moby/buildkit:v0.14.0;network=host",
      AWS_PLUGIN_PATH_STYLE: "true",
      PLUGIN_CACHE_TLS_INSECURE: "true",
      PLUGIN_BAKE_FILE: "docker-bake.hcl",
      PLUGIN_BAKE_OPTIONS: "app; --set *.platform=linux/amd64",
      PLUGIN_REGISTRY_CA: "ca.pem",
      PLUGIN_INSECURE: "true",
    },
    flags: [],
    cwd: dir.path,
  });
  const table = formatConfigTable(configReport(resolved));
  const row = (setting: string, env: string, value: string, from: string) =>
    assert.match(table, new RegExp(`^${setting} \\(${env}\\)\\s+${value}\\s+${from}$`, "m"), setting);
  row(
    "buildArgsFromEnv",
    "PLUGIN_BUILD_ARGS_FROM_ENV",
    '"GIT_SHA", "build_id"',
    "env PLUGIN_BUILD_ARGS_FROM_ENV",
  );
  row(
    "builderDriverOptsNew",
    "PLUGIN_BUILDER_DRIVER_OPTS_NEW",
    '"image=moby/buildkit:v0\\.14\\.0", "network=host"',
    "env PLUGIN_BUILDER_DRIVER_OPTS_NEW",
  );
  row("cachePathStyle", "PLUGIN_PATH_STYLE", "true", "env AWS_PLUGIN_PATH_STYLE");
  row("cacheTlsInsecure", "PLUGIN_CACHE_TLS_INSECURE", "true", "env PLUGIN_CACHE_TLS_INSECURE");
  row("bakeFile", "PLUGIN_BAKE_FILE", `${dir.path}/docker-bake\\.hcl`, "env PLUGIN_BAKE_FILE");
  row(
    "bakeOptions",
    "PLUGIN_BAKE_OPTIONS",
    '"app", "--set \\*\\.platform=linux/amd64"',
    "env PLUGIN_BAKE_OPTIONS",
  );
  row("registryCa", "PLUGIN_REGISTRY_CA", `${dir.path}/ca\\.pem`, "env PLUGIN_REGISTRY_CA");
  row("insecure", "PLUGIN_INSECURE", "true", "env PLUGIN_INSECURE");
});

test("secretValues: a password in a URL of any setting is a secret, as config shows it masked; a user alone is not", async (t) => {
  const { secretValues } = await import("../../lib/config/secrets.js");
  const dir = await tempDir("config-show-");
  t.after(dir.remove);
  const resolved = await resolveSettings({
    env: {
      PLUGIN_REPO: "registry.example.com/team/app",
      PLUGIN_BUILD_ARGS:
        "NPM_URL=https://npm-user:Npm%40T0ken@registry.npmjs.example/,GIT=ssh://git@github.com/x",
      PLUGIN_CACHE_FROM: "type=registry,ref=registry.example.com/cache",
      PLUGIN_BUILDER_REMOTE_CONN: "tcp://builder:Bu1lderPw@buildkitd:1234",
    },
    flags: [],
    cwd: dir.path,
  });
  const secrets = secretValues(resolved.settings);
  for (const secret of [
    "npm-user:Npm%40T0ken",
    "Npm%40T0ken",
    "Npm@T0ken",
    "builder:Bu1lderPw",
    "Bu1lderPw",
  ]) {
    assert.ok(secrets.includes(secret), `${secret} in ${secrets.join(" ")}`);
  }
  assert.ok(!secrets.some((s) => s.includes("git")), secrets.join(" "));
  const table = formatConfigTable(configReport(resolved));
  assert.doesNotMatch(table, /T0ken|Bu1lderPw/);
});

test("config warns of a tar path without a dry run, as the run does (once); a bake run's own warning covers it there", async (t) => {
  const dir = await tempDir("config-show-");
  t.after(dir.remove);
  const env = { PLUGIN_REPO: "registry.example.com/app", PLUGIN_TAR_PATH: join(dir.path, "image.tar") };
  const report = configReport(await resolveSettings({ env, flags: [], cwd: dir.path }));
  const tarWarnings = report.warnings.filter((w) => /TAR_PATH/.test(w));
  assert.equal(tarWarnings.length, 1, report.warnings.join("\n"));
  assert.match(
    tarWarnings[0] ?? "",
    /^PLUGIN_TAR_PATH is set but PLUGIN_DRY_RUN is not true: the image is pushed and no tarball is written/,
  );
  await writeFile(join(dir.path, "docker-bake.hcl"), 'target "default" {}\n');
  const bake = await resolveSettings({
    env: { ...env, PLUGIN_BAKE_FILE: join(dir.path, "docker-bake.hcl") },
    flags: [],
    cwd: dir.path,
  });
  assert.deepEqual(
    bake.warnings.filter((w) => /TAR_PATH/.test(w)),
    [],
  );
});
