import { request as httpRequest } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { picture } from './images.ts';

export interface RawUpload {
  /** Where to POST it, and with what headers besides its type and length. */
  url: string;
  headers: Record<string, string>;
  /** The Content-Length said; none (chunked) without it. */
  declaredBytes?: number;
  sendBytes: number;
  /** Start with a real PNG's first bytes, so the upload passes the type check and reaches the store. */
  png?: boolean;
  /**
   * After sending: wait for the answer (the default), go away at once (`destroy`), go away once
   * what was sent has had time to arrive (`leave`), or send nothing more and wait (`stall`).
   */
  then?: 'answer' | 'destroy' | 'leave' | 'stall';
}

export interface RawUploadResult {
  /** Undefined when no answer came: the client left, or the connection was cut. */
  status: number | undefined;
  text: string;
  /** What the client had written before the answer came. */
  sentBytes: number;
}

/**
 * An image upload over a connection of its own, in 256 KiB pieces, counting what it sent before
 * an answer came: for the tests of what a server does with a body too large, cut short or stalled.
 */
export async function rawUpload({ url, headers, declaredBytes, sendBytes, png = false, then = 'answer' }: RawUpload): Promise<RawUploadResult> {
  const start = png ? await picture('png', 64, 48) : Buffer.alloc(0);
  const target = new URL(url);
  const allHeaders = { ...headers, 'content-type': 'image/png', ...(declaredBytes === undefined ? {} : { 'content-length': String(declaredBytes) }) };
  return new Promise((resolve) => {
    let sentBytes = 0;
    let answered = false;
    const outgoing = httpRequest({ host: target.hostname, port: target.port, path: target.pathname, method: 'POST', headers: allHeaders, agent: false }, (response) => {
      answered = true;
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode, text: Buffer.concat(chunks).toString(), sentBytes }));
    });
    outgoing.on('error', () => { if (!answered) resolve({ status: undefined, text: '', sentBytes }); });
    const piece = Buffer.alloc(256 * 1024, 7);
    const leave = () => {
      outgoing.destroy();
      resolve({ status: undefined, text: '', sentBytes });
    };
    const pump = () => {
      while (!answered && sentBytes < sendBytes) {
        const chunk = sentBytes === 0 && png ? Buffer.concat([start, piece]).subarray(0, piece.length) : piece;
        sentBytes += chunk.length;
        if (!outgoing.write(chunk)) return void outgoing.once('drain', pump);
      }
      if (answered) return;
      if (then === 'destroy') leave();
      // Long enough for the bytes sent to reach the server, then gone, as a closed laptop is.
      if (then === 'leave') setTimeout(leave, 300);
      if (then === 'answer' && declaredBytes === undefined) outgoing.end();
    };
    pump();
  });
}

/** True once `condition` holds, asked every 100 ms; false if it never did within `withinMs`. */
export async function waitFor(condition: () => Promise<boolean>, withinMs: number): Promise<boolean> {
  for (const until = Date.now() + withinMs; Date.now() < until; await sleep(100)) {
    if (await condition()) return true;
  }
  return condition();
}
