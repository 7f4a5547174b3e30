import assert from "node:assert/strict";
import { test } from "node:test";
import { createLogger } from "../../lib/log.js";

test("registered secrets never reach the log", () => {
  const lines: string[] = [];
  const logger = createLogger({ write: (line) => lines.push(line) });
  logger.addSecret("hunter2-password");
  logger.addSecret("hunter2");
  logger.info("login with hunter2-password failed");
  logger.warn("token hunter2 expired");
  logger.error("both: hunter2 hunter2-password");
  assert.deepEqual(lines, ["login with *** failed", "warning: token *** expired", "error: both: *** ***"]);
});

test("quiet drops info but keeps warnings and errors", () => {
  const lines: string[] = [];
  const logger = createLogger({ quiet: true, write: (line) => lines.push(line) });
  logger.info("progress");
  logger.warn("careful");
  logger.error("failed");
  assert.deepEqual(lines, ["warning: careful", "error: failed"]);
});

test("a secret is masked in its encoded spellings too: base64 at every offset, URL and form encoding, JSON", () => {
  const lines: string[] = [];
  const logger = createLogger({ write: (line) => lines.push(line) });
  const password = 's3cr3t/p@ss "word"';
  logger.addSecret(password);
  logger.addSecret(`ci-user:${password}`);
  const basic = Buffer.from(`ci-user:${password}`).toString("base64");
  // The password's bytes at each offset of a base64 group, inside a longer encoded text.
  const shifted = ["", "x", "xy"].map((prefix) => Buffer.from(`${prefix}${password}tail`).toString("base64"));
  logger.error(`registry said: bad header "Basic ${basic}"`);
  logger.error(`form: password=${new URLSearchParams({ p: password }).toString().slice(2)}`);
  logger.error(`url: ${encodeURIComponent(password)}`);
  logger.error(`json: ${JSON.stringify({ password })}`);
  for (const text of shifted) logger.error(`blob: ${text}`);
  const output = lines.join("\n");
  assert.ok(!output.includes(basic), output);
  assert.ok(!output.includes(password), output);
  assert.ok(!output.includes(encodeURIComponent(password)), output);
  assert.ok(!output.includes(JSON.stringify(password).slice(1, -1)), output);
  // What stays of a shifted encoding is at most the characters it shares with its neighbours.
  for (const text of shifted) {
    const core = Buffer.from(password).toString("base64").slice(4, 16);
    assert.ok(!output.includes(text), output);
    assert.ok(!output.includes(core) || !text.includes(core), output);
  }
  assert.match(output, /registry said: bad header "Basic \*\*\*"/);
});

test("loggers that share a mask share its secrets", async () => {
  const { SecretMask } = await import("../../lib/secret-mask.js");
  const secrets = new SecretMask();
  const lines: string[] = [];
  createLogger({ secrets }).addSecret("token-abc123");
  createLogger({ secrets, write: (line) => lines.push(line) }).error("refused token-abc123");
  assert.deepEqual(lines, ["error: refused ***"]);
});

test("no line of the log carries terminal controls: they are shown escaped; its own line breaks and tabs stay", () => {
  const lines: string[] = [];
  const logger = createLogger({ write: (line) => lines.push(line) });
  logger.addSecret("hunter2-password");
  logger.info("a\u001b[2Jb\rc\u0007d\u009be\u202ef");
  logger.error("two\nlines\twith a tab, and hunter2-password");
  assert.deepEqual(lines, ["a\\x1b[2Jb\\rc\\x07d\\x9be\\u202ef", "error: two\nlines\twith a tab, and ***"]);
});
