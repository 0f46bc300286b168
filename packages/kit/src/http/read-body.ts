import type { Readable } from 'node:stream';

/**
 * Reads a response body as UTF-8 text, up to `limitBytes`. A longer body is destroyed at once
 * (its connection closes rather than hand the pool a socket with unread bytes) and the result
 * is undefined. A stream error, including the request's abort, rejects.
 *
 * Listens for 'data' and 'end' rather than using `for await`: an async iterator per response
 * was the largest single cost of the client in bench/scenarios/client-overhead.ts.
 *
 * @example
 * const text = await readText(response.body, 1024 * 1024);
 * if (text === undefined) throw tooLarge();
 */
export function readText(body: Readable, limitBytes: number): Promise<string | undefined> {
  return new Promise<string | undefined>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const settle = () => {
      body.off('data', onData);
      body.off('end', onEnd);
      body.off('error', onError);
      body.off('close', onClose);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limitBytes) {
        settle();
        body.destroy();
        resolve(undefined);
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      settle();
      resolve(chunks.length === 1 ? (chunks[0] as Buffer).toString('utf8') : Buffer.concat(chunks, size).toString('utf8'));
    };
    const onError = (error: Error) => {
      settle();
      reject(error);
    };
    // Destroyed without an error (by whoever else holds the body): the text will never come.
    const onClose = () => {
      settle();
      reject(new Error('the response body closed before its end'));
    };
    body.on('data', onData);
    body.once('end', onEnd);
    body.once('error', onError);
    body.once('close', onClose);
  });
}
