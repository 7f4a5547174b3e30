// The one POST that hands secrets to token endpoints (Azure AD, ACR's /oauth2/exchange), against a real
// HTTPS server on loopback: it trusts the CA it is given, keeps its deadline, reads at most its limit of an
// answer, never follows a redirect, and never speaks plain HTTP.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import { after, before, test } from "node:test";
import { postForm } from "../../lib/auth/form-post.js";
import { StepFailure } from "../../lib/errors.js";
import { makeCertificates } from "../helpers/registry.js";
import { tempDir } from "../helpers/tmp.js";

let work: Awaited<ReturnType<typeof tempDir>>;
let server: Server;
let base: string;
let ca: string[];
const seen: string[] = [];

before(async () => {
  work = await tempDir("auth-form-post-");
  const certs = makeCertificates(work.path);
  ca = [readFileSync(certs.ca, "utf8")];
  server = createServer(
    { cert: readFileSync(certs.cert), key: readFileSync(certs.key) },
    (request: IncomingMessage, response: ServerResponse) => {
      seen.push(`${request.method} ${request.url}`);
      const chunks: Buffer[] = [];
      request.on("data", (c: Buffer) => chunks.push(c));
      request.on("end", () => {
        switch (request.url) {
          case "/token":
            response.writeHead(200, { "content-type": "application/json" });
            response.end(
              JSON.stringify({
                type: request.headers["content-type"],
                form: Object.fromEntries(new URLSearchParams(Buffer.concat(chunks).toString())),
              }),
            );
            return;
          case "/silent":
            return; // never answers
          case "/declared-large":
            response.writeHead(200, { "content-length": String(2 * 1024 * 1024) });
            response.write("{");
            return;
          case "/streamed-large": {
            response.writeHead(200, { "content-type": "application/json" });
            const piece = Buffer.alloc(64 * 1024, "a");
            for (let i = 0; i < 40; i++) response.write(piece);
            response.end();
            return;
          }
          case "/redirect":
            response.writeHead(307, { location: `${base}/elsewhere` });
            response.end();
            return;
          default:
            response.writeHead(404);
            response.end();
        }
      });
    },
  );
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve));
  await work?.remove();
});

const form = new URLSearchParams({ grant_type: "client_credentials", client_secret: "s&cret=1" });

async function assertFails(promise: Promise<unknown>, message: RegExp) {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof StepFailure, String(error));
    assert.match(error.message, message);
    assert.ok(!error.message.includes("s&cret"), error.message);
    return true;
  });
}

test("a form is posted url-encoded over verified TLS, and the answer read", async () => {
  const answer = await postForm(new URL(`${base}/token`), form, { what: "test endpoint", ca });
  assert.equal(answer.status, 200);
  assert.deepEqual(JSON.parse(answer.body), {
    type: "application/x-www-form-urlencoded",
    form: { grant_type: "client_credentials", client_secret: "s&cret=1" },
  });
});

test("a server whose CA is not trusted is refused, with the hint of where its CA goes", async () => {
  await assertFails(
    postForm(new URL(`${base}/token`), form, { what: "test endpoint", tlsHint: "give its CA in X_CA" }),
    /^test endpoint \(POST https:\/\/127\.0\.0\.1:\d+\/token\): could not be reached \(.*certificate.*\); give its CA in X_CA$/,
  );
});

test("the deadline covers the whole exchange", async () => {
  const started = Date.now();
  await assertFails(
    postForm(new URL(`${base}/silent`), form, { what: "test endpoint", ca, timeoutMs: 300 }),
    /\/silent\): no complete answer within 0.3 s/,
  );
  assert.ok(Date.now() - started < 5000);
  await assertFails(
    postForm(new URL(`${base}/declared-large`), form, {
      what: "test endpoint",
      ca,
      timeoutMs: 300,
      maxBytes: 4 * 1024 * 1024,
    }),
    /no complete answer/,
  );
});

test("an answer larger than the limit is not read", async () => {
  await assertFails(
    postForm(new URL(`${base}/declared-large`), form, { what: "test endpoint", ca }),
    /the answer is 2097152 bytes, more than the 1048576 a token answer may be/,
  );
  await assertFails(
    postForm(new URL(`${base}/streamed-large`), form, { what: "test endpoint", ca }),
    /the answer is more than the 1048576 bytes a token answer may be/,
  );
});

test("a redirect is an answer, not followed; plain http is refused before anything is sent", async () => {
  const before = seen.length;
  const answer = await postForm(new URL(`${base}/redirect`), form, { what: "test endpoint", ca });
  assert.equal(answer.status, 307);
  assert.deepEqual(seen.slice(before), ["POST /redirect"]);
  await assertFails(
    postForm(new URL(base.replace("https:", "http:")), form, { what: "test endpoint" }),
    /is not https: refusing to send credentials/,
  );
  assert.equal(seen.length, before + 1);
});
