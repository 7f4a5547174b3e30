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
