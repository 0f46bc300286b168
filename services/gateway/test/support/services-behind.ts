import { generateKeyPairSync, randomUUID, sign } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { timeoutHeader } from '@baton/kit/resilience';
import { addCleanup, type CleanupScope } from '@baton/kit/testing';

/** One request a service behind the gateway received, as it saw it. */
export interface Received {
  method: string;
  path: string;
  /** The `x-baton-timeout-ms` the gateway sent, as a number. */
  budgetMs: number;
  /** True once the request's response closed before it was answered: the gateway gave up on it. */
  aborted: boolean;
  /** The trace context headers the gateway sent on, if any. */
  traceparent: string | undefined;
  baggage: string | undefined;
}

export interface ServicesBehind {
  url: string;
  jwksUrl: string;
  received: Received[];
  /** Answers every request from now on after `ms`, or never with `Infinity`. */
  answerAfter(ms: number): void;
  /** Answers every request from now on as a service that cannot serve: 503, Retry-After 1; `false` to stop. */
  unavailable(on: boolean): void;
  /** An access token the gateway accepts, signed by the key the JWKS publishes; with `roles`, a user's roles. */
  accessToken(options?: { roles?: string[] }): string;
}

const issuer = 'baton-users';
const audience = ['gateway', 'users', 'inventory', 'orders', 'notifications'];

/**
 * A real HTTP server standing in for every service behind the gateway at once: it records the
 * method, path and budget of each request it gets and answers `{}` (201 for a POST), and it
 * publishes the JWKS of a key of its own, so the gateway can verify the tokens a test signs.
 * The gateway under test is the real one; only what it calls is this.
 */
export async function startServicesBehind(scope: CleanupScope): Promise<ServicesBehind> {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const kid = 'gateway-test-key';
  const jwks = { keys: [{ ...publicKey.export({ format: 'jwk' }), kid, alg: 'EdDSA', use: 'sig' }] };
  const received: Received[] = [];
  let delayMs = 0;
  let down = false;

  const server = createServer(function serve(req: IncomingMessage, res: ServerResponse) {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    if (path === '/.well-known/jwks.json') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(jwks));
      return;
    }
    if (path === '/v1/token-revocations') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ tokens: [], users: [], cursor: '0', more: false }));
      return;
    }
    const header = (name: string) => (typeof req.headers[name] === 'string' ? req.headers[name] : undefined);
    const record: Received = {
      method: req.method ?? '', path, budgetMs: Number(req.headers[timeoutHeader]), aborted: false, traceparent: header('traceparent'), baggage: header('baggage'),
    };
    received.push(record);
    const answer = () => (down
      ? res.writeHead(503, { 'content-type': 'application/problem+json', 'retry-after': '1' })
        .end(JSON.stringify({ type: 'about:blank', title: 'Service Unavailable', status: 503, detail: 'the database is not answering', code: 'unavailable' }))
      : res.writeHead(req.method === 'POST' ? 201 : 200, { 'content-type': 'application/json' }).end('{}'));
    const timer = Number.isFinite(delayMs) ? setTimeout(answer, delayMs) : undefined;
    res.once('close', () => {
      clearTimeout(timer);
      record.aborted = !res.writableFinished;
    });
    req.resume();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  addCleanup(scope, () => new Promise<void>((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  }));
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;

  const base64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  return {
    url,
    jwksUrl: `${url}/.well-known/jwks.json`,
    received,
    answerAfter(ms) {
      delayMs = ms;
    },
    unavailable(on) {
      down = on;
    },
    accessToken({ roles }: { roles?: string[] } = {}) {
      const nowSeconds = Math.floor(Date.now() / 1_000);
      const signed = `${base64url({ alg: 'EdDSA', typ: 'at+jwt', kid })}.${base64url({
        iss: issuer, aud: audience, sub: randomUUID(), jti: randomUUID(), iat: nowSeconds, exp: nowSeconds + 600, ...(roles ? { roles } : {}),
      })}`;
      return `${signed}.${sign(null, Buffer.from(signed), privateKey).toString('base64url')}`;
    },
  };
}
