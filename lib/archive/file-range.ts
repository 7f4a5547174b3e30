/**
 * A byte range of a file as a stream, read into buffers of a pool (reusable-buffers.ts) that the
 * registry transport gives back once it has sent them: fs.createReadStream allocates a new buffer for
 * every read, which a large push pays for in page faults and garbage collection.
 */
import fs from "node:fs";
import { Readable } from "node:stream";
import { BufferPool } from "../reusable-buffers.js";

export class FileRange extends Readable {
  readonly #open: (callback: (error: Error | null, fd?: number) => void) => void;
  readonly #pool: BufferPool;
  readonly #end: number;
  #position: number;
  #fd: number | undefined;
  /** A read is in flight: the fd is closed only after it (another file may get its number). */
  #reading = false;

  /** `open` gives the file's descriptor, checked as its caller wants; `end` is exclusive. */
  constructor(
    open: (callback: (error: Error | null, fd?: number) => void) => void,
    start: number,
    end: number,
    readSize: number,
  ) {
    super({ highWaterMark: readSize });
    this.#open = open;
    this.#pool = new BufferPool(readSize);
    this.#position = start;
    this.#end = end;
  }

  override _construct(callback: (error?: Error | null) => void): void {
    this.#open((error, fd) => {
      this.#fd = fd;
      callback(error);
    });
  }

  override _read(): void {
    const length = Math.min(this.#pool.size, this.#end - this.#position);
    if (length <= 0) {
      this.push(null);
      return;
    }
    const buffer = this.#pool.take();
    this.#reading = true;
    fs.read(this.#fd as number, buffer, 0, length, this.#position, (error, bytesRead) => {
      this.#reading = false;
      if (this.destroyed) this.emit("readDone");
      else if (error) this.destroy(error);
      // A file shorter than indexed ends the stream early, as a read stream does; the verifier says so.
      else if (bytesRead === 0) this.push(null);
      else {
        this.#position += bytesRead;
        this.push(this.#pool.filled(buffer, bytesRead));
      }
    });
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    const close = () => {
      if (this.#fd === undefined) callback(error);
      else fs.close(this.#fd, () => callback(error));
      this.#fd = undefined;
    };
    if (this.#reading) this.once("readDone", close);
    else close();
  }
}
