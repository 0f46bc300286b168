import type { Readable } from 'node:stream';

/**
 * Reads a response body as UTF-8 text, up to `limitBytes`. A longer body is destroyed at once
 * (its connection closes rather than hand the pool a socket with unread bytes) and the result
 * is undefined. A stream error, including the request's abort, rejects.
 *
 * @example
 * const text = await readText(response.body, 1024 * 1024);
 * if (text === undefined) throw tooLarge();
 */
export async function readText(body: Readable, limitBytes: number): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > limitBytes) {
      body.destroy();
      return undefined;
    }
    chunks.push(buffer);
  }
  return Buffer.concat(chunks, size).toString('utf8');
}
