// Which repositories and tags a build's pushed references name, for the check of what they serve.
import assert from "node:assert/strict";
import { test } from "node:test";
import { tagsByRepository } from "../../lib/modes/pushed-tags.js";

test("references are grouped by repository, in order; references without a tag are left out", () => {
  const groups = tagsByRepository([
    "127.0.0.1:5000/team/app:v1",
    "127.0.0.1:5000/team/app:latest",
    "registry.example.com/app:v1",
    "127.0.0.1:5000/team/app",
  ]);
  assert.deepEqual(
    groups.map((g) => [g.repository.host, g.repository.path, g.tags]),
    [
      ["127.0.0.1:5000", "team/app", ["v1", "latest"]],
      ["registry.example.com", "app", ["v1"]],
    ],
  );
  assert.deepEqual(
    tagsByRepository(["app:1"]).map((g) => g.repository.full),
    ["docker.io/library/app"],
  );
});

test("a check of the pushed tags that the registry refuses the login for warns with the setting to check, as before item 3 (issue 14)", async (t) => {
  const { createServer } = await import("node:http");
  const { checkPushedTags } = await import("../../lib/modes/pushed-tags.js");
  const { createLogger } = await import("../../lib/log.js");
  const { testSettings } = await import("../helpers/settings.js");
  // A registry that takes Basic logins and refuses this one.
  const server = createServer((_request, response) => {
    response.writeHead(401, { "www-authenticate": 'Basic realm="r"', "content-type": "application/json" });
    response.end('{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}');
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  t.after(() => server.close());
  const host = `127.0.0.1:${(server.address() as { port: number }).port}`;
  const lines: string[] = [];
  const moved = await checkPushedTags([`${host}/app:1`], `sha256:${"a".repeat(64)}`, testSettings(), {
    logger: createLogger({ write: (line) => lines.push(line) }),
    env: {},
    credentials: async () => ({ username: "u", password: "wrong" }),
    names: (key) => `--${key}`,
  });
  assert.deepEqual(moved, []);
  const warning = lines.find((line) => line.includes(`could not check what ${host}/app serves`)) ?? "";
  assert.match(warning, /HTTP 401/);
  assert.match(warning, new RegExp(`check --username and --password \\(or the docker config\\) for ${host}`));
});
