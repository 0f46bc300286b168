import { open, type FileHandle } from 'node:fs/promises';
import { Writable } from 'node:stream';

/**
 * Frees a chunk's memory now, by detaching its ArrayBuffer, when the chunk is the only view of
 * that memory (not a slice of a pool, nor one part of a larger read).
 */
export function letGo(chunk: Buffer): void {
  const memory = chunk.buffer;
  if (memory instanceof ArrayBuffer && chunk.byteOffset === 0 && chunk.byteLength === memory.byteLength) memory.transfer(0);
}

/**
 * A new file (`wx`, 0600) written from a stream, flushed to disk (fsync) before it closes, that
 * with `freeChunks` frees each chunk's memory as soon as the chunk is written. Only for chunks
 * that are the stream's own: a chunk that is the whole of a buffer someone still uses (busboy's
 * reused look-behind buffer, in a multipart form) would be freed under them.
 *
 * Why not `fs.createWriteStream`: an upload's chunks (64 KB each, as the socket reads them) are
 * garbage once written, but their memory is freed only when a collection finds their buffers,
 * and V8 counts that memory loosely: up to 64 MB of it may wait for a full collection. Under ten
 * 48 MB uploads at once, media's RSS grew by 76 to 131 MB from one run of the
 * checkout-beside-uploads bench to the next with the write stream. The file is the chunk's last
 * stop, so this writer lets it go once written.
 */
export function fileWriter(path: string, { freeChunks = false }: { freeChunks?: boolean } = {}): Writable {
  let file: FileHandle | undefined;
  let closed: Promise<void> | undefined;
  const close = () => (closed ??= file?.close() ?? Promise.resolve());
  return new Writable({
    construct(done) {
      open(path, 'wx', 0o600).then((handle) => {
        file = handle;
        done();
      }, done);
    },
    write(chunk: Buffer, _encoding, done) {
      writeAll(file as FileHandle, chunk).then(() => {
        if (freeChunks) letGo(chunk);
      }).then(() => done(), done);
    },
    final(done) {
      (file as FileHandle).sync().then(close).then(() => done(), done);
    },
    destroy(error, done) {
      close().then(() => done(error), () => done(error));
    },
  });
}

async function writeAll(file: FileHandle, chunk: Buffer): Promise<void> {
  for (let offset = 0; offset < chunk.byteLength;) {
    const { bytesWritten } = await file.write(chunk, offset, chunk.byteLength - offset);
    offset += bytesWritten;
  }
}
