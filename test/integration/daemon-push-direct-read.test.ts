/**
 * Push-only through the engine (PLUGIN_PUSH_VIA=daemon) reads what the registry serves for the tag
 * directly, as a check only. When that read fails, the log line says why with the setting to change, as
 * the failure said it before the modes took over the hints (issue 14, item 3): the registry here (a
 * proxy in front of the real one) lets the engine's requests through and refuses this step's login.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { test } from "node:test";
import { promisify } from "node:util";
import { runCli } from "../helpers/cli.js";
import { startFaultProxy } from "../helpers/fault-proxy.js";
import { buildTarball, sampleContext } from "../helpers/images.js";
import { tempDir } from "../helpers/tmp.js";

const REGISTRY = "127.0.0.1:5000";

test("a direct read the registry refuses the login for is logged with the settings to check", async (t) => {
  const dir = await tempDir("daemon-direct-read-");
  t.after(dir.remove);
  const proxy = await startFaultProxy(REGISTRY, [
    {
      userAgent: /^buildx-step/,
      times: Number.POSITIVE_INFINITY,
      action: {
        kind: "status",
        status: 401,
        headers: { "www-authenticate": 'Basic realm="r"', "content-type": "application/json" },
        body: '{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}',
      },
    },
  ]);
  t.after(() => proxy.stop());
  const name = `buildx-step-test/direct-read-${randomBytes(4).toString("hex")}:a`;
  // The engine keeps the name the tarball gave the image it loaded: removed again afterwards.
  t.after(() => promisify(execFile)("docker", ["rmi", name]).catch(() => {}));
  const tarball = await buildTarball({
    context: await sampleContext(join(dir.path, "ctx")),
    dest: join(dir.path, "image.tar"),
    tags: [name],
  });
  const result = await runCli(
    ["push", tarball, "--via", "daemon", "--repo", `${proxy.host}/direct/read`, "-t", "v1"],
    { env: { PLUGIN_REGISTRY: proxy.host, PLUGIN_USERNAME: "u", PLUGIN_PASSWORD: "wrong-pw" } },
  );
  assert.equal(result.code, 0, result.stderr);
  const line = result.stderr.split("\n").find((l) => l.includes("from the registry directly")) ?? "";
  assert.match(line, /HTTP 401/, result.stderr);
  assert.match(
    line,
    new RegExp(`check PLUGIN_USERNAME and PLUGIN_PASSWORD \\(or the docker config\\) for ${proxy.host}`),
  );
  assert.ok(!result.stderr.includes("wrong-pw"), "the password is not in the log");
});
