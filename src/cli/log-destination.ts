import { fstatSync, write } from 'node:fs';
import { Socket } from 'node:net';
import { Writable } from 'node:stream';

/** Lines kept in memory while the output cannot take them; past this, new lines are dropped. */
const MAX_BUFFERED_BYTES = 16 * 1024 * 1024;
/** How long to wait before writing again to an output that is full (EAGAIN). */
const RETRY_MS = 50;

/**
 * Where the server's log lines go: a file descriptor (standard output), written asynchronously so
 * that a log reader that stops reading (a full pipe) or goes away (EPIPE, `npm start | head`) can
 * neither stall requests nor keep the process from exiting. Nothing is written synchronously, not
 * even at exit (pino's own stdout destination flushes synchronously at exit, and spins there for as
 * long as the pipe stays full); a broken output ends logging quietly; what cannot be written yet is
 * buffered up to a bound, then dropped.
 *
 * A pipe or socket is written through the event loop, non-blocking (Node's own `process.stdout`
 * makes pipes blocking, and a write blocked in the thread pool would keep even `process.exit` from
 * returning); a file or terminal, which never blocks for good, through `fs.write`.
 */
export class LogDestination extends Writable {
  readonly #fd: number;
  readonly #socket: Socket | undefined;
  #broken = false;

  constructor(fd = 1) {
    super({ decodeStrings: true });
    this.#fd = fd;
    const kind = fstatSync(fd);
    if (kind.isFIFO() || kind.isSocket()) {
      this.#socket = new Socket({ fd, readable: false, writable: true });
      this.#socket.on('error', () => {
        this.#broken = true;
      });
    }
    // A failed write (EPIPE: the reader exited) leaves nowhere to log to; it must not crash the process.
    this.on('error', () => {
      this.#broken = true;
    });
  }

  override write(chunk: unknown, encoding?: BufferEncoding | ((error: Error | null | undefined) => void), callback?: (error: Error | null | undefined) => void): boolean {
    // Over the bound (or after a failure) the line is dropped rather than buffered without limit.
    if (this.#broken || this.writableEnded || this.writableLength > MAX_BUFFERED_BYTES) return true;
    return typeof encoding === 'function' ? super.write(chunk, encoding) : super.write(chunk, encoding ?? 'utf8', callback);
  }

  /** The lines that queued while a write was in flight go out as one write (one per request otherwise: issue 13). */
  override _writev(chunks: Array<{ chunk: Buffer }>, done: (error?: Error | null) => void): void {
    this._write(chunks.length === 1 ? chunks[0]!.chunk : Buffer.concat(chunks.map((entry) => entry.chunk)), 'utf8', done);
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (error?: Error | null) => void): void {
    if (this.#socket) {
      // Done once the kernel took it; a failure (EPIPE) marks the destination broken, see above.
      if (this.#broken) done();
      else this.#socket.write(chunk, () => done());
      return;
    }
    const writeFrom = (offset: number): void => {
      write(this.#fd, chunk, offset, chunk.length - offset, null, (error, written) => {
        if (error) {
          if ((error as NodeJS.ErrnoException).code === 'EAGAIN') {
            setTimeout(() => writeFrom(offset), RETRY_MS).unref();
            return;
          }
          this.#broken = true;
          done();
          return;
        }
        if (offset + written < chunk.length) writeFrom(offset + written);
        else done();
      });
    };
    if (this.#broken) done();
    else writeFrom(0);
  }

  /**
   * Writes out what is buffered, then ends the stream; resolves when that is done or after
   * `timeoutMs`, whichever comes first (lines still unwritten then are lost).
   */
  close(timeoutMs: number): Promise<void> {
    return new Promise((resolve) => {
      if (this.#broken || this.writableFinished) {
        resolve();
        return;
      }
      const timer = setTimeout(resolve, timeoutMs);
      timer.unref();
      this.end(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
}
