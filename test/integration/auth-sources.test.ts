// The credential source and the build's temporary docker config, with real files and real helper
// processes (scripts on PATH speaking docker's credential-helper protocol).
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { chmod, mkdir, readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { credentialSourceFor } from "../../lib/auth/resolve.js";
import { writeTempDockerConfig } from "../../lib/auth/temp-docker-config.js";
import type { Settings } from "../../lib/config/settings.js";
import { StepFailure } from "../../lib/errors.js";
import { createLogger } from "../../lib/log.js";
import { tempDir } from "../helpers/tmp.js";

const exec = promisify(execFile);
const b64 = (text: string) => Buffer.from(text).toString("base64");

let work: Awaited<ReturnType<typeof tempDir>>;
let bin: string;
let calls: string;

const settings = (overrides: Partial<Settings>): Settings =>
  ({
    registry: "https://index.docker.io/v1/",
    region: "us-east-1",
    insecure: false,
    createRepository: false,
    scanOnPush: false,
    run: {},
    ...overrides,
  }) as Settings;

function testLogger() {
  const lines: string[] = [];
  const logger = createLogger({ write: (line) => lines.push(line), debug: true });
  return { logger, lines };
}

/** A helper script: answers `answers[address]`, else "credentials not found"; logs each call. */
async function helper(name: string, body: string) {
  const path = join(bin, `docker-credential-${name}`);
  await writeFile(
    path,
    `#!/bin/sh\nread -r address || true\necho "${name} $1 $address" >> ${calls}\n${body}\n`,
  );
  await chmod(path, 0o755);
}

before(async () => {
  work = await tempDir("auth-sources-");
  bin = join(work.path, "bin");
  calls = join(work.path, "calls.log");
  await mkdir(bin);
  await helper(
    "store",
    [
      'case "$address" in',
      '  store.example.com) echo \'{"ServerURL":"store.example.com","Username":"store-user","Secret":"store-Secret-1"}\' ;;',
      '  https://index.docker.io/v1/) echo \'{"ServerURL":"https://index.docker.io/v1/","Username":"<token>","Secret":"hub-Identity-2"}\' ;;',
      '  *) echo "credentials not found in native keychain"; exit 1 ;;',
      "esac",
    ].join("\n"),
  );
  await helper("broken", 'echo "the keychain is locked" >&2; exit 3');
});

after(async () => {
  await work?.remove();
});

async function userConfig(name: string, config: unknown): Promise<string> {
  const dir = join(work.path, name);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, "config.json"), JSON.stringify(config));
  return dir;
}

test("the sources, in order: login, base-image login, PLUGIN_CONFIG, the user's config and its helpers", async () => {
  const dockerConfig = await userConfig("order", {
    auths: {
      "plugin-and-user.example.com": { auth: b64("user-cfg:user-Pass-3") },
      "user.example.com": { auth: b64("u:user-Pass-4") },
      "login.example.com": { auth: b64("shadowed:shadowed-Pass") },
    },
    credsStore: "store",
  });
  const { logger } = testLogger();
  const source = credentialSourceFor(
    settings({
      registry: "https://login.example.com/",
      username: "ci",
      password: "login-Pass-5",
      baseImageRegistry: "base.example.com",
      baseImageUsername: "puller",
      baseImagePassword: "base-Pass-6",
      config: JSON.stringify({
        auths: { "https://plugin-and-user.example.com": { auth: b64("plugin-cfg:plugin-Pass-7") } },
      }),
    }),
    { PATH: `${bin}:${process.env.PATH}`, DOCKER_CONFIG: dockerConfig },
    logger,
  );
  assert.deepEqual(await source("login.example.com"), { username: "ci", password: "login-Pass-5" });
  assert.deepEqual(await source("base.example.com"), { username: "puller", password: "base-Pass-6" });
  assert.deepEqual(await source("plugin-and-user.example.com"), {
    username: "plugin-cfg",
    password: "plugin-Pass-7",
  });
  assert.deepEqual(await source("store.example.com"), { username: "store-user", password: "store-Secret-1" });
  assert.deepEqual(await source("https://index.docker.io/v1/"), { identityToken: "hub-Identity-2" });
  assert.deepEqual(await source("registry-1.docker.io"), { identityToken: "hub-Identity-2" }, "Hub aliases");
  // The store has nothing for it: the auths entry written beside the store is used.
  assert.deepEqual(await source("user.example.com"), { username: "u", password: "user-Pass-4" });
  assert.equal(await source("anonymous.example.com"), undefined);
  const log = await readFile(calls, "utf8");
  assert.equal(
    log.match(/store get https:\/\/index\.docker\.io\/v1\//g)?.length,
    1,
    "one helper call per host",
  );
  for (const secret of [
    "login-Pass-5",
    "base-Pass-6",
    "plugin-Pass-7",
    "store-Secret-1",
    "hub-Identity-2",
    "user-Pass-4",
  ]) {
    assert.equal(logger.mask(`x ${secret} y`), "x *** y", secret);
  }
});

test("a helper that is not installed is warned about once; a failing helper fails the lookup", async () => {
  const missing = await userConfig("missing", {
    auths: { "a.example.com": { auth: b64("a:a-Pass-8") } },
    credsStore: "not-installed",
  });
  const { logger, lines } = testLogger();
  const source = credentialSourceFor(settings({}), { PATH: bin, DOCKER_CONFIG: missing }, logger);
  assert.deepEqual(await source("a.example.com"), { username: "a", password: "a-Pass-8" });
  assert.equal(await source("b.example.com"), undefined);
  assert.equal(
    lines.filter((l) => l.includes("docker-credential-not-installed, which is not on PATH")).length,
    1,
  );

  const broken = await userConfig("broken", { credHelpers: { "c.example.com": "broken" } });
  const failing = credentialSourceFor(
    settings({}),
    { PATH: bin, DOCKER_CONFIG: broken },
    testLogger().logger,
  );
  await assert.rejects(failing("c.example.com"), (e: Error) => {
    assert.ok(e instanceof StepFailure);
    assert.equal(
      e.message,
      "docker-credential-broken get c.example.com failed (exit 3): the keychain is locked",
    );
    return true;
  });
});

test("the build's docker config: 0700 folder, 0600 file, logins pinned past the store, removed after", async () => {
  const dockerConfig = await userConfig("for-build", {
    auths: { "other.example.com": { auth: b64("o:other-Pass-9") } },
    credsStore: "store",
    credHelpers: { "gcr.io": "gcloud" },
  });
  await mkdir(join(dockerConfig, "cli-plugins"), { recursive: true });
  const { logger } = testLogger();
  const env = { PATH: `${bin}:${process.env.PATH}`, DOCKER_CONFIG: dockerConfig };
  const s = settings({
    registry: "push.example.com:5000",
    repo: "push.example.com:5000/team/app",
    username: "ci",
    password: "push-Pass-10",
  });
  const temp = await writeTempDockerConfig({
    settings: s,
    source: credentialSourceFor(s, env, logger),
    env,
    logger,
  });
  assert.equal((await stat(temp.dir)).mode & 0o777, 0o700);
  const file = join(temp.dir, "config.json");
  assert.equal((await stat(file)).mode & 0o777, 0o600);
  const written = JSON.parse(await readFile(file, "utf8"));
  assert.deepEqual(written.auths, {
    "other.example.com": { auth: b64("o:other-Pass-9") },
    "push.example.com:5000": { auth: b64("ci:push-Pass-10") },
  });
  assert.equal(written.credsStore, "store");
  // The store keeps answering for every other registry (Docker Hub, FROM images); ours is pinned to the file.
  assert.deepEqual(written.credHelpers, { "gcr.io": "gcloud", "push.example.com:5000": "" });
  assert.deepEqual(written.cliPluginsExtraDirs, [join(dockerConfig, "cli-plugins")]);
  assert.deepEqual(temp.env, { DOCKER_CONFIG: temp.dir, BUILDX_CONFIG: join(dockerConfig, "buildx") });
  await temp.remove();
  await assert.rejects(stat(temp.dir), { code: "ENOENT" });
});

test("the build's docker config is removed when the process exits without removing it", async () => {
  const script = join(work.path, "exit-early.mjs");
  const module = fileURLToPath(new URL("../../lib/auth/temp-docker-config.js", import.meta.url));
  const logModule = fileURLToPath(new URL("../../lib/log.js", import.meta.url));
  await writeFile(
    script,
    [
      `import { writeTempDockerConfig } from ${JSON.stringify(module)};`,
      `import { createLogger } from ${JSON.stringify(logModule)};`,
      "const temp = await writeTempDockerConfig({",
      '  settings: { registry: "r.example.com", run: {} },',
      '  source: async () => ({ username: "u", password: "exit-Pass-11" }),',
      `  env: { DOCKER_CONFIG: ${JSON.stringify(join(work.path, "none"))} },`,
      "  logger: createLogger(),",
      "});",
      "console.log(temp.dir);",
      "process.exit(0);",
    ].join("\n"),
  );
  const { stdout } = await exec(process.execPath, [script]);
  const dir = stdout.trim();
  assert.match(dir, /buildx-step-docker-config-/);
  await assert.rejects(stat(dir), { code: "ENOENT" });
});
