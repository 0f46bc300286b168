import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createLogger } from './index.ts';
import { Code, KitError } from '../errors/index.ts';

function capture() {
  const raw: string[] = [];
  const logger = createLogger({ service: 'redaction-test', destination: { write: (chunk: string) => void raw.push(chunk) } });
  const lines = () => raw.join('').split('\n').filter((line) => line !== '').map((line) => JSON.parse(line) as Record<string, unknown>);
  return { logger, raw, lines };
}

void test('secrets are blanked out wherever a handler is likely to log them', () => {
  const { logger, raw, lines } = capture();
  logger.info({
    password: 'pw-top',
    authorization: 'Bearer auth-top',
    token: 'token-top',
    accessToken: 'access-top',
    refreshToken: 'refresh-top',
    cookie: 'sid=cookie-top',
    apiKey: 'apikey-top',
    user: { email: 'a@example.com', password: 'pw-nested', token: 'token-nested', refreshToken: 'refresh-nested' },
    account: { credentials: { password: 'pw-deep', token: 'token-deep' } },
    req: { method: 'GET', headers: { authorization: 'Bearer req-auth', cookie: 'sid=req-cookie', 'x-api-key': 'req-apikey', 'baton-service-token': 'req-service-token' } },
    SERVICE_KEY: '{"kty":"OKP","d":"service-key-d"}',
    res: { headers: { 'set-cookie': 'sid=res-cookie' } },
    headers: { authorization: 'Bearer hdr-auth', cookie: 'sid=hdr-cookie', 'set-cookie': 'sid=hdr-set-cookie', 'baton-service-token': 'hdr-service-token' },
    DATABASE_URL: 'postgres://orders:db-password@db:5432/orders',
    TOKEN_KEY_ENCRYPTION_KEY: 'kek-top',
    config: { TOKEN_KEY_ENCRYPTION_KEY: 'kek-nested', keyEncryptionKey: 'kek-named', SERVICE_KEY: 'nested-service-key' },
    request: { headers: { authorization: 'Bearer deep-auth', cookie: 'sid=deep-cookie' } },
    a: { b: { refreshToken: 'deep-refresh', apiKey: 'deep-apikey', c: { password: 'deeper-pw' } } },
  }, 'logged everything');

  const text = raw.join('');
  for (const secret of ['pw-top', 'auth-top', 'token-top', 'access-top', 'refresh-top', 'cookie-top', 'apikey-top',
    'pw-nested', 'token-nested', 'refresh-nested', 'pw-deep', 'token-deep', 'req-auth', 'req-cookie', 'req-apikey',
    'res-cookie', 'hdr-auth', 'hdr-cookie', 'hdr-set-cookie', 'db-password', 'kek-top', 'kek-nested', 'kek-named',
    'deep-auth', 'deep-cookie', 'deep-refresh', 'deep-apikey', 'deeper-pw', 'req-service-token', 'hdr-service-token', 'service-key-d', 'nested-service-key']) {
    assert.ok(!text.includes(secret), `${secret} reached the log`);
  }

  const [line] = lines();
  assert.ok(line);
  const at = (path: string[]) => path.reduce<unknown>((value, key) => (value as Record<string, unknown>)[key], line);
  assert.equal(line.password, '[REDACTED]');
  assert.equal(line.authorization, '[REDACTED]');
  assert.equal(line.cookie, '[REDACTED]');
  assert.equal(at(['user', 'password']), '[REDACTED]');
  assert.equal(at(['req', 'headers', 'authorization']), '[REDACTED]');
  assert.equal(at(['headers', 'set-cookie']), '[REDACTED]');
  // What is not secret is kept, so the line stays useful.
  assert.equal(at(['user', 'email']), 'a@example.com');
  assert.equal(at(['req', 'method']), 'GET');
  assert.equal(line.msg, 'logged everything');
  assert.equal(line.service, 'redaction-test');
  assert.equal(line.level, 'info');
});

void test('an error is logged with its stack and its cause', () => {
  const { logger, lines } = capture();
  logger.error({ err: new Error('outer', { cause: new Error('inner cause') }) }, 'failed');
  const [line] = lines();
  const err = line?.err as { message: string; stack: string; cause?: { message: string } } | undefined;
  assert.equal(err?.message, 'outer');
  assert.match(err?.stack ?? '', /logger\.test\.ts/);
  assert.equal(err?.cause?.message, 'inner cause');
});

void test('a failure the kit has named (unavailable, with its cause) is logged without a stack at any depth; a bug keeps its stack', () => {
  const { logger, lines } = capture();
  const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
  logger.warn({ err: new KitError(Code.Unavailable, 'the database is unavailable', { reason: 'database_unavailable', cause: refused }) }, 'relay pass failed');
  logger.error({ err: new KitError(Code.Internal, 'a bug') }, 'handler threw');
  const [named, bug] = lines();
  const err = named?.err as { message: string; stack?: string; code: string; reason: string; cause?: { message: string; stack?: string } };
  assert.equal(err.message, 'the database is unavailable');
  assert.equal(err.reason, 'database_unavailable');
  assert.equal(err.stack, undefined);
  assert.equal(err.cause?.message, 'connect ECONNREFUSED 127.0.0.1:5432');
  assert.equal(err.cause?.stack, undefined);
  assert.match((bug?.err as { stack?: string }).stack ?? '', /logger\.test\.ts/);
});
