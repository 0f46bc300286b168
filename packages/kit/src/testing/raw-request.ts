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
 */
export function sendRaw(base: string, { method = 'GET', path, headers = {}, body, timeoutMs = 15_000 }: RawRequest): Promise<RawAnswer> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const outgoing = httpRequest({ host: hostname, port, method, path, headers, agent: false, timeout: timeoutMs }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk)).on('end', () => {
        resolve({ status: response.statusCode ?? 0, contentType: String(response.headers['content-type'] ?? ''), body: Buffer.concat(chunks).toString('utf8') });
      });
    });
    outgoing.on('timeout', () => outgoing.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    outgoing.once('error', reject);
    outgoing.end(body);
  });
}
