import assert from "node:assert/strict";
import { Readable } from "node:stream";
import { test } from "node:test";
import {
  EngineStreamError,
  JsonMessageSplitter,
  messageError,
  readJsonMessages,
} from "../../lib/daemon/json-messages.js";
import { collectLoaded, type LoadedImages } from "../../lib/daemon/load.js";

test("messages split across chunks (and inside a UTF-8 character) come out whole", () => {
  const splitter = new JsonMessageSplitter();
  const text = '{"status":"Pushing","id":"a"}\n{"stream":"Loaded image: é/x:1\\n"}\n{"status":"last"}';
  const bytes = Buffer.from(text);
  const out = [];
  for (let i = 0; i < bytes.length; i++) out.push(...splitter.push(bytes.subarray(i, i + 1)));
  out.push(...splitter.end());
  assert.deepEqual(out, [
    { status: "Pushing", id: "a" },
    { stream: "Loaded image: é/x:1\n" },
    { status: "last" },
  ]);
});

test("a line that is not JSON is kept as text", () => {
  assert.deepEqual(new JsonMessageSplitter().push("<html>bad gateway</html>\n"), [
    { stream: "<html>bad gateway</html>" },
  ]);
});

test("errorDetail's message wins over error, as docker prints it", () => {
  assert.equal(messageError({ error: "short", errorDetail: { message: "detailed" } }), "detailed");
  assert.equal(messageError({ error: "only error" }), "only error");
  assert.equal(messageError({ status: "Pushed" }), undefined);
});

test("the first error message of a stream rejects, with the engine's words (recorded wrong-password push, containerd store)", async () => {
  const recorded = [
    '{"status":"The push refers to repository [127.0.0.1:5099/daemonexp]"}',
    '{"status":"Waiting","progressDetail":{},"id":"e3a9f42758dc"}',
    '{"errorDetail":{"message":"unexpected status from HEAD request to http://127.0.0.1:5099/v2/daemonexp/blobs/sha256:74fb: 401 Unauthorized"},"error":"unexpected status from HEAD request to http://127.0.0.1:5099/v2/daemonexp/blobs/sha256:74fb: 401 Unauthorized"}',
    '{"status":"never seen"}',
  ].join("\n");
  const seen: string[] = [];
  await assert.rejects(
    readJsonMessages(Readable.from([recorded]), (m) => seen.push(m.status ?? "")),
    (error: unknown) => error instanceof EngineStreamError && /401 Unauthorized$/.test(error.message),
  );
  assert.deepEqual(seen, ["The push refers to repository [127.0.0.1:5099/daemonexp]", "Waiting"]);
});

test("a stream without errors is read to its end", async () => {
  const seen: unknown[] = [];
  await readJsonMessages(Readable.from(['{"status":"a"}\n', '{"status":"b"}\n']), (m) => seen.push(m.status));
  assert.deepEqual(seen, ["a", "b"]);
});

test("load answers: names and IDs of what the engine loaded", () => {
  const loaded: LoadedImages = { names: [], ids: [] };
  collectLoaded({ stream: "Loaded image: exp/sample:a\n" }, loaded);
  collectLoaded({ stream: "Loaded image: exp/sample:b\n" }, loaded);
  collectLoaded({ stream: "Loaded image: exp/sample:a\n" }, loaded);
  collectLoaded({ stream: `Loaded image ID: sha256:${"5".repeat(64)}\n` }, loaded);
  collectLoaded({ status: "Loading layer", id: "c7484499300f" }, loaded);
  assert.deepEqual(loaded, { names: ["exp/sample:a", "exp/sample:b"], ids: [`sha256:${"5".repeat(64)}`] });
});
