/**
 * Read buffers that a blob's reader uses again once the registry's socket has written them (issue 13): a
 * fresh 1 MiB buffer for every read of a large push costs page faults and garbage collection, about a
 * sixth of its CPU. A buffer goes back to its pool only when the piece of it that ends where its read
 * ended has been written; the writes of one blob go out in order, so every byte before it was written too.
 * A buffer that is never given back (a request that failed, a reader that keeps what it read) is left to
 * the garbage collector, as any other buffer: nothing is reused before the socket is done with it.
 */
export class BufferPool {
  readonly #free: Buffer[] = [];

  constructor(readonly size: number) {}

  /** A buffer of `size` bytes to read into: one given back, or a new one. */
  take(): Buffer {
    return this.#free.pop() ?? Buffer.allocUnsafeSlow(this.size);
  }

  /** The first `length` bytes read into `buffer`, to pass on; {@link written} gives `buffer` back. */
  filled(buffer: Buffer, length: number): Buffer {
    owners.set(buffer.buffer, { pool: this, buffer, end: buffer.byteOffset + length });
    return buffer.subarray(0, length);
  }

  giveBack(buffer: Buffer): void {
    this.#free.push(buffer);
  }
}

const owners = new WeakMap<ArrayBufferLike, { pool: BufferPool; buffer: Buffer; end: number }>();

/** `chunk` was written to a socket: its buffer goes back to its pool when this was its last piece. */
export function written(chunk: Buffer): void {
  const owner = owners.get(chunk.buffer);
  if (!owner || chunk.byteOffset + chunk.length !== owner.end) return;
  owners.delete(chunk.buffer);
  owner.pool.giveBack(owner.buffer);
}
