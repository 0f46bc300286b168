import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, readlink, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { after, before, describe, test } from 'node:test';
import { fileWriter, letGo } from '../src/store/file-writer.ts';

void describe('fileWriter', () => {
  let dir: string;
  before(async () => { dir = await mkdtemp(join(tmpdir(), 'baton-file-writer-')); });
  after(async () => { await rm(dir, { recursive: true, force: true }); });

  test('writes every byte, in order, to a new file only its owner can read', async () => {
    const chunks = Array.from({ length: 20 }, () => randomBytes(64 * 1024));
    const expected = Buffer.concat(chunks);
    const path = join(dir, 'whole');
    await pipeline(Readable.from(chunks), fileWriter(path));
    assert.deepEqual(await readFile(path), expected);
    assert.equal((await stat(path)).mode & 0o777, 0o600);
  });

  test('frees each chunk it wrote: the chunk is empty after, when it was the whole of its memory', async () => {
    const whole = randomBytes(64 * 1024);
    const pooled = Buffer.from('a slice of a shared pool');
    const poolBefore = Buffer.from(pooled.buffer).length;
    await pipeline(Readable.from([whole, pooled]), fileWriter(join(dir, 'freed'), { freeChunks: true }));
    assert.equal(whole.length, 0, 'the whole chunk was let go');
    assert.equal(pooled.toString(), 'a slice of a shared pool', 'a slice of a pool is left alone');
    assert.equal(Buffer.from(pooled.buffer).length, poolBefore);
  });

  test('without freeChunks every chunk is left as it was: a multipart parser may still be using it', async () => {
    const whole = randomBytes(64 * 1024);
    const copy = Buffer.from(whole);
    await pipeline(Readable.from([whole]), fileWriter(join(dir, 'kept')));
    assert.deepEqual(whole, copy);
  });

  test('never writes over a file that is there', async () => {
    const path = join(dir, 'taken');
    await writeFile(path, 'mine');
    await assert.rejects(pipeline(Readable.from([Buffer.from('theirs')]), fileWriter(path)), { code: 'EEXIST' });
    assert.equal(await readFile(path, 'utf8'), 'mine');
  });

  test('a source that fails half-way fails the write and closes the file', async () => {
    const path = join(dir, 'cut');
    async function* halfThenFail() {
      yield randomBytes(1024);
      throw new Error('the client went away');
    }
    const writer = fileWriter(path);
    await assert.rejects(pipeline(halfThenFail(), writer), /the client went away/);
    // The pipeline rejects at the error; the writer closes its file as it is destroyed, which ends
    // with its 'close' event (seen once in CI: the descriptor still open the moment the pipeline rejected).
    if (!writer.closed) await new Promise((resolve) => writer.once('close', resolve));
    assert.ok((await stat(path)).isFile(), 'the file was made (the store removes it: fs-store.ts)');
    const open = await Promise.all((await readdir('/proc/self/fd')).map((fd) => readlink(join('/proc/self/fd', fd)).catch(() => '')));
    assert.ok(!open.includes(path), 'no descriptor of this process is left on the file');
  });

  test('letGo leaves a buffer that shares its memory with others alone', () => {
    const memory = new ArrayBuffer(16);
    const part = Buffer.from(memory, 0, 8);
    letGo(part);
    assert.equal(part.length, 8);
    assert.equal(memory.byteLength, 16);
  });
});
