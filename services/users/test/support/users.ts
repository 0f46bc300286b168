import { randomBytes } from 'node:crypto';
import { createJsonClient, type Answer } from '@baton/kit/testing';

export type { Answer };
import { startService, type RunningService } from '@baton/kit/service';
import { addCleanup, testIdentity, createCapturedLogger, createSuiteDatabase, metricValue, parseMetrics, type CleanupScope, type LogLine } from '@baton/kit/testing';
import { readConfig } from '../../src/config.ts';
import { usersService } from '../../src/service.ts';

export interface Problem {
  type: string;
  title: string;
  status: number;
  code: string;
  reason?: string;
  detail: string;
  instance?: string;
  request_id?: string;
  errors?: Array<{ field: string; message: string }>;
  [member: string]: unknown;
}

export interface User {
  id: string;
  email: string;
  name: string;
  roles: string[];
  /** Only in the answer to a sign-up: the new account is signed in. */
  session?: Token;
}

export interface Token {
  accessToken: string;
  tokenType: string;
  expiresIn: number;
  refreshToken: string;
  refreshExpiresIn: number;
}

export interface Jwks {
  keys: Array<Record<string, string>>;
}

/** An admin token for the suites that rotate keys (ADMIN_TOKEN wants at least 16 characters). */
export const adminToken = 'test-admin-token-0123456789';

function callerOf(path: string): string {
  if (path.startsWith('/events/')) return 'notifications';
  return /^\/v1\/users\/(?!me\b)/.test(path) ? 'orders' : 'gateway';
}

/** The key-encryption key of every users service a test starts: one per test process, so a restart on the same database opens its keys. */
export const testKeyEncryptionKey = randomBytes(32).toString('base64');

/**
 * A small client for the users API over real HTTP (`/admin/*` and `/metrics` on its admin listener). The body is parsed when it is JSON; `T` is
 * what the test expects it to be.
 */
export function createClient(baseUrl: string, adminUrl: string) {
  // Each route as its real caller calls it: a user by id orders, the rest the gateway; the feed notifications.
  const { send } = createJsonClient(baseUrl, {
    as: (_method, path) => ({ caller: callerOf(path), callee: 'users' }),
  });
  const admin = createJsonClient(adminUrl);
  const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

  return {
    send,
    register: (user: { email: string; password: string; name: string }) => send<User>('POST', '/v1/users', { json: user }),
    login: (email: string, password: string) => send<Token>('POST', '/v1/auth/login', { json: { email, password } }),
    refresh: (refreshToken: string) => send<Token>('POST', '/v1/auth/refresh', { json: { refreshToken } }),
    logout: (token: string, body: { allSessions?: boolean } = {}) => send('POST', '/v1/auth/logout', { json: body, headers: bearer(token) }),
    me: (token: string) => send<User>('GET', '/v1/users/me', { headers: bearer(token) }),
    user: (id: string) => send<User>('GET', `/v1/users/${id}`),
    jwks: () => send<Jwks>('GET', '/.well-known/jwks.json'),
    rotate: (headers: Record<string, string> = bearer(adminToken)) => admin.send<{ kid: string; createdAt: string }>('POST', '/admin/keys/rotate', { headers }),
    /** Signs up, which signs in; fails the test if it does not work. */
    async signedIn(user: { email: string; password: string; name: string }): Promise<{ user: User; token: string }> {
      const registered = await send<User>('POST', '/v1/users', { json: user });
      if (registered.status !== 201 || registered.body.session === undefined) throw new Error(`registration answered ${registered.status}`);
      const { session, ...account } = registered.body;
      return { user: account, token: session.accessToken };
    },
    /** How many scrypt hashes the service has computed for `purpose`, read from its admin listener's /metrics. */
    async hashCount(purpose: 'hash' | 'verify'): Promise<number> {
      const metrics = await admin.send<string>('GET', '/metrics');
      return metricValue(parseMetrics(metrics.body), 'users_password_hashes_total', { purpose });
    },
  };
}

export type Client = ReturnType<typeof createClient>;

export interface TestUsers {
  url: string;
  service: RunningService;
  client: Client;
  /** Every log line the service wrote, parsed. */
  logs: LogLine[];
}

/**
 * The users service in this process, on a free port, over real HTTP, on the PostgreSQL database
 * `DATABASE_URL` names or else a fresh one of its own (see `createSuiteDatabase`). It is shut
 * down, and a database it made dropped, when `scope` ends.
 */
export async function startUsers(scope: CleanupScope, environment: Record<string, string> = {}): Promise<TestUsers> {
  const databaseUrl = environment.DATABASE_URL ?? await createSuiteDatabase(scope);
  // No half-second notice before the listeners close (SHUTDOWN_NOTICE_MS): nothing here calls
  // through a pool that must hear it, and each test's service stops the sooner.
  const config = readConfig({
    HOST: '127.0.0.1', PORT: '0', GRPC_PORT: '0', TOKEN_KEY_ENCRYPTION_KEY: testKeyEncryptionKey, SHUTDOWN_NOTICE_MS: '0', ...testIdentity.env('users'), ...environment, DATABASE_URL: databaseUrl,
  });
  const { logger, lines } = createCapturedLogger({ service: 'users' });
  const service = await startService(usersService, config, { logger });
  addCleanup(scope, () => service.shutdown('tests finished'));
  return { url: service.url, service, client: createClient(service.url, service.adminUrl), logs: lines };
}

/** A unique address per call, so tests sharing a service never collide. */
export function uniqueEmail(label = 'user'): string {
  return `${label}-${crypto.randomUUID()}@example.com`;
}
