import { request as httpRequest, type OutgoingHttpHeaders } from 'node:http';

export interface RawRequest {
  method?: string;
  /** Sent as given, byte for byte: fetch and URL would re-encode `/%61pi` or `..`. */
  path: string;
  headers?: OutgoingHttpHeaders;
  body?: string | Buffer;
  /** How long to wait for the answer before failing; 15 s unless told. */
  timeoutMs?: number;
}

export interface RawAnswer {
  status: number;
  contentType: string;
  body: string;
}

/**
 * One request over node:http on a connection of its own, for the tests that send what a
 * well-behaved client would not (encoded paths, headers fetch refuses, hostile bodies) and
 * read the answer as text.
 *
 * An answer that came is the answer, even when the body was still being written and the server
 * then closed the connection (a 400 for a bad path, given before a 2 MB body was all read and
 * the server stopped reading it): the write fails with EPIPE or a reset after the answer, as it
 * would for any client. Without an answer, that failure is the result.
 */
export function sendRaw(base: string, { method = 'GET', path, headers = {}, body, timeoutMs = 15_000 }: RawRequest): Promise<RawAnswer> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    let answer: { status: number; contentType: string; chunks: Buffer[] } | undefined;
    const settle = () => {
      if (answer !== undefined) resolve({ status: answer.status, contentType: answer.contentType, body: Buffer.concat(answer.chunks).toString('utf8') });
    };
    const outgoing = httpRequest({ host: hostname, port, method, path, headers, agent: false, timeout: timeoutMs }, (response) => {
      answer = { status: response.statusCode ?? 0, contentType: String(response.headers['content-type'] ?? ''), chunks: [] };
      const { chunks } = answer;
      response.on('data', (chunk: Buffer) => chunks.push(chunk)).on('end', settle).on('error', settle);
    });
    outgoing.on('timeout', () => outgoing.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    outgoing.once('error', (error) => (answer === undefined ? reject(error) : settle()));
    outgoing.end(body);
  });
}
