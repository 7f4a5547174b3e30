// Build args from the environment through the real CLI and engine: the proxies and PLUGIN_BUILD_ARGS_FROM_ENV
// reach a RUN step with the values the plugin would give them, while docker's command line (as logged)
// carries the names only, and a proxy's password never reaches the log.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { promisify } from "node:util";
import { runCli } from "../helpers/cli.js";
import { runImage } from "../helpers/engine.js";
import { sampleContext } from "../helpers/images.js";
import { tempDir } from "../helpers/tmp.js";

const exec = promisify(execFile);
let work: Awaited<ReturnType<typeof tempDir>>;
const loaded: string[] = [];

before(async () => {
  work = await tempDir("buildx-step-build-env-args-");
});
after(async () => {
  if (loaded.length > 0) await exec("docker", ["rmi", "--force", ...loaded]).catch(() => undefined);
  await work?.remove();
});

// http_proxy and the other proxy names are BuildKit's predefined args (no ARG needed); GIT_SHA is declared.
// BuildKit leaves proxy args out of the cache key: the unique file keeps one test's RUN from reusing another's.
const dockerfile = [
  "FROM scratch",
  "COPY busybox /bin/busybox",
  "COPY unique.txt /unique.txt",
  "ARG git_sha",
  "ARG GIT_SHA",
  'RUN ["/bin/busybox", "sh", "-c", "echo $http_proxy > /p; echo $HTTPS_PROXY > /ps; echo $git_sha $GIT_SHA > /g; echo seen=$http_proxy"]',
].join("\n");

function readInImage(image: string, ...files: string[]): Promise<string> {
  return runImage(image, { entrypoint: "/bin/busybox", args: ["cat", ...files] });
}

test("proxies and PLUGIN_BUILD_ARGS_FROM_ENV reach RUN through buildx's environment, not its argv", async () => {
  const context = await sampleContext(join(work.path, "proxy"), { dockerfile });
  const image = `bxs-env/${randomBytes(4).toString("hex")}:v1`;
  const password = `pr0xy-${randomBytes(6).toString("hex")}`;
  const httpProxy = `http://bob:${password}@proxy.invalid:3128`;
  const result = await runCli([], {
    cwd: context,
    env: {
      PLUGIN_REPO: image.split(":")[0],
      PLUGIN_TAGS: "v1",
      PLUGIN_DRY_RUN: "true",
      PLUGIN_BUILDX_LOAD: "true",
      PLUGIN_BUILD_ARGS_FROM_ENV: "git_sha",
      http_proxy: httpProxy,
      HARNESS_HTTPS_PROXY: "http://secure.invalid:3129",
      GIT_SHA: "c0ffee42",
    },
  });
  assert.equal(result.code, 0, result.stderr);
  loaded.push(image);

  // The values arrived: http_proxy as set, https_proxy from HARNESS_HTTPS_PROXY, git_sha from GIT_SHA.
  assert.equal(
    await readInImage(image, "/p", "/ps", "/g"),
    `${httpProxy}\nhttp://secure.invalid:3129\nc0ffee42 c0ffee42\n`,
  );

  // docker's command line, as logged: names only.
  const command = result.stderr.split("\n").find((line) => line.startsWith("+ docker buildx build"));
  assert.ok(command, result.stderr);
  assert.match(
    command,
    / --build-arg http_proxy --build-arg HTTP_PROXY --build-arg https_proxy --build-arg HTTPS_PROXY --build-arg git_sha --build-arg GIT_SHA /,
  );
  for (const value of ["proxy.invalid", "secure.invalid", "c0ffee42"])
    assert.equal(command.includes(value), false, value);
  assert.match(result.stderr, /build arg https_proxy: the value of HARNESS_HTTPS_PROXY/);
  // The RUN step printed the proxy URL: its password is masked in our log.
  assert.match(result.stderr, /seen=http:\/\/(bob:)?\*\*\*@proxy\.invalid:3128/);
  assert.equal(result.stderr.includes(password), false, "the proxy password is masked");
});

test("a build arg the user set keeps its own value (the plugin's prefix rule)", async () => {
  const context = await sampleContext(join(work.path, "own"), { dockerfile });
  const image = `bxs-env/${randomBytes(4).toString("hex")}:v1`;
  const result = await runCli([], {
    cwd: context,
    env: {
      PLUGIN_REPO: image.split(":")[0],
      PLUGIN_TAGS: "v1",
      PLUGIN_DRY_RUN: "true",
      PLUGIN_BUILD_ARGS: "http_proxy=http://mine.invalid:1",
      http_proxy: "http://env.invalid:2",
    },
  });
  assert.equal(result.code, 0, result.stderr);
  loaded.push(image);
  assert.equal(await readInImage(image, "/p"), "http://mine.invalid:1\n");
  assert.doesNotMatch(result.stderr, /--build-arg HTTP_PROXY/);
});

test("variables of PLUGIN_ENV_FILE reach the build as the process's own do (the plugin loads them into its environment)", async () => {
  const context = await sampleContext(join(work.path, "env-file"), { dockerfile });
  const image = `bxs-env/${randomBytes(4).toString("hex")}:v1`;
  const envFile = join(context, "ci.env");
  await writeFile(envFile, "GIT_SHA=feed1234\nhttp_proxy=http://from-file.invalid:3128\n");
  const result = await runCli([], {
    cwd: context,
    env: {
      PLUGIN_ENV_FILE: envFile,
      PLUGIN_REPO: image.split(":")[0],
      PLUGIN_TAGS: "v1",
      PLUGIN_DRY_RUN: "true",
      PLUGIN_BUILD_ARGS_FROM_ENV: "git_sha",
    },
  });
  assert.equal(result.code, 0, result.stderr);
  loaded.push(image);
  assert.equal(await readInImage(image, "/p", "/g"), "http://from-file.invalid:3128\nfeed1234 feed1234\n");
});
