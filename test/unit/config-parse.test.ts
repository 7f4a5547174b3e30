import assert from "node:assert/strict";
import { test } from "node:test";
import { parseBool, parseList } from "../../lib/config/parse.js";
import { UsageError } from "../../lib/errors.js";
import { namesSetting } from "../helpers/setting-names.js";

test("booleans: what Go's ParseBool accepts, in any case", () => {
  const cases: [string, boolean][] = [
    ["true", true],
    ["TRUE", true],
    ["True", true],
    ["tRuE", true],
    ["1", true],
    ["t", true],
    ["T", true],
    [" true ", true],
    ["false", false],
    ["FALSE", false],
    ["False", false],
    ["0", false],
    ["f", false],
    ["F", false],
  ];
  for (const [input, expected] of cases) assert.equal(parseBool(input, "PLUGIN_X"), expected, input);
});

test("booleans: anything else is an error naming the variable and its value", () => {
  for (const input of ["yes", "no", "on", "off", "2", "", "truee", "enabled"]) {
    assert.throws(
      () => parseBool(input, "PLUGIN_DRY_RUN"),
      (error: unknown) =>
        error instanceof UsageError &&
        error.message.includes("PLUGIN_DRY_RUN") &&
        error.message.includes(JSON.stringify(input)) &&
        namesSetting(error, "PLUGIN_DRY_RUN"),
      input,
    );
  }
});

test("lists: each form splits as the plugin does, JSON keeps commas whole", () => {
  const cases: [string, "comma" | "semicolon" | "keyValue", string[]][] = [
    ["a,b,c", "comma", ["a", "b", "c"]],
    [" a , b ,, c ,", "comma", ["a", "b", "c"]],
    ["", "comma", []],
    ["single", "comma", ["single"]],
    ["type=registry,ref=x;type=local,src=/c", "semicolon", ["type=registry,ref=x", "type=local,src=/c"]],
    [" a ; b ;", "semicolon", ["a", "b"]],
    ["A=1,B=2", "keyValue", ["A=1", "B=2"]],
    ['["a,b", "c"]', "comma", ["a,b", "c"]],
    ['["type=registry,ref=x", "type=gha"]', "semicolon", ["type=registry,ref=x", "type=gha"]],
    ['["1", 2, true]', "comma", ["1", "2", "true"]],
    ['{"A":"1,2","B":3}', "keyValue", ["A=1,2", "B=3"]],
    // Not JSON after all: the plain form applies.
    ["[::1]:80,b", "comma", ["[::1]:80", "b"]],
    ["{x},y", "comma", ["{x}", "y"]],
  ];
  for (const [input, form, expected] of cases) {
    assert.deepEqual(parseList(input, form, "PLUGIN_X"), expected, `${form}: ${input}`);
  }
});

test("lists: a JSON list of objects is refused with the variable named", () => {
  assert.throws(
    () => parseList('[{"a":1}]', "comma", "PLUGIN_TAGS"),
    (error: unknown) => error instanceof UsageError && /PLUGIN_TAGS/.test(error.message),
  );
});

test("lists: a JSON object is only a key=value list where the plugin takes maps", () => {
  // For a plain comma list an object is just text, split at its commas as the plugin would.
  assert.deepEqual(parseList('{"A":"1","B":"2"}', "comma", "PLUGIN_X"), ['{"A":"1"', '"B":"2"}']);
});
