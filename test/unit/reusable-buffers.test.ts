import assert from "node:assert/strict";
import { test } from "node:test";
import { BufferPool, written } from "../../lib/reusable-buffers.js";

test("a read buffer is used again only after the piece that ends where its read ended was written", () => {
  const pool = new BufferPool(8);
  const first = pool.take();
  const read = pool.filled(first, 6);
  assert.equal(read.length, 6);
  // Split across two requests' bodies (chunked upload): the first piece written gives nothing back.
  written(read.subarray(0, 4));
  assert.notEqual(pool.take(), first, "bytes 4..6 are not written yet");
  written(read.subarray(4));
  assert.equal(pool.take(), first, "its last piece was written");
});

test("a buffer never written, or not from a pool, is left to the garbage collector", () => {
  const pool = new BufferPool(8);
  const kept = pool.filled(pool.take(), 8);
  written(Buffer.from("not pooled"));
  assert.notEqual(pool.take().buffer, kept.buffer);
});
