import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { HttpClientEvent } from '../upstream/events.ts';
import { createDnsDiscovery, parseDnsTarget } from '../upstream/dns-discovery.ts';
import { createStaticDiscovery, originOf } from '../upstream/discovery.ts';
import { discoveryFrom } from '../upstream/discovery-from.ts';
import { createHttpClient } from './http-client.ts';
import { type Upstream, sendJson, startUpstream } from '../testing/index.ts';

void describe('static discovery', () => {
  void test('takes origins only, and says which URL is wrong', () => {
    assert.equal(originOf('http://catalog-0.catalog:8080/'), 'http://catalog-0.catalog:8080');
    assert.throws(() => originOf('http://catalog:8080/v1'), /origin only/);
    assert.throws(() => originOf('http://user:pw@catalog:8080'), /origin only/);
    assert.throws(() => originOf('ftp://catalog'), /http/);
    assert.throws(() => originOf('catalog:8080x'), /not a URL|http/);
    assert.deepEqual(createStaticDiscovery(['http://a:1', 'http://a:1/', 'http://b:2']).instances(), ['http://a:1', 'http://b:2']);
    assert.throws(() => createStaticDiscovery([]), /at least one/);
  });

  void test('discoveryFrom reads a <SERVICE>_URLS value', () => {
    assert.deepEqual(discoveryFrom(' http://a:1 , http://b:2 ').instances(), ['http://a:1', 'http://b:2']);
    const dns = discoveryFrom('dns:127.0.0.1:8080');
    try {
      assert.equal(typeof (dns as { refresh?: unknown }).refresh, 'function');
    } finally {
      dns.close();
    }
    assert.throws(() => discoveryFrom('dns:a:1,http://b:2'), /stands alone/);
  });
});

void describe('DNS discovery', () => {
  void test('parses dns:<host>:<port>', () => {
    assert.deepEqual(parseDnsTarget('dns:catalog.baton.svc:8080'), { host: 'catalog.baton.svc', port: 8080 });
    assert.throws(() => parseDnsTarget('dns:catalog'), /dns:<host>:<port>/);
    assert.throws(() => parseDnsTarget('dns:catalog:0'), /dns:<host>:<port>/);
  });

  void test('resolves every A record, follows changes, and keeps the last good answer when a lookup fails', async () => {
    let answer: string[] | Error = ['10.0.0.2', '10.0.0.1'];
    const errors: unknown[] = [];
    const seen: Array<readonly string[]> = [];
    const discovery = createDnsDiscovery('dns:catalog.baton.svc:8080', {
      refreshMs: 60_000,
      resolve4: async (host) => {
        assert.equal(host, 'catalog.baton.svc');
        if (answer instanceof Error) throw answer;
        return answer;
      },
      onError: (error) => errors.push(error),
    });
    try {
      discovery.subscribe((instances) => seen.push(instances));
      await discovery.ready;
      assert.deepEqual(discovery.instances(), ['http://10.0.0.1:8080', 'http://10.0.0.2:8080']);

      answer = ['10.0.0.1', '10.0.0.3'];
      await discovery.refresh();
      assert.deepEqual(discovery.instances(), ['http://10.0.0.1:8080', 'http://10.0.0.3:8080']);

      answer = new Error('ESERVFAIL');
      await discovery.refresh();
      answer = [];
      await discovery.refresh();
      assert.deepEqual(discovery.instances(), ['http://10.0.0.1:8080', 'http://10.0.0.3:8080']);
      assert.equal(errors.length, 2);

      answer = ['10.0.0.3', '10.0.0.1'];
      await discovery.refresh();
      // The first answer and the one change: failures and the same set in another order are no change.
      assert.equal(seen.length, 2);
    } finally {
      discovery.close();
    }
  });

  void test('refreshes on its own every refreshMs', async () => {
    let lookups = 0;
    const discovery = createDnsDiscovery('dns:catalog:8080', { refreshMs: 20, resolve4: async () => [`10.0.0.${++lookups}`] });
    try {
      const lists: Array<readonly string[]> = [];
      const changedTwice = new Promise<void>((resolve) => discovery.subscribe((instances) => {
        if (lists.push(instances) === 2) resolve();
      }));
      await changedTwice;
      assert.deepEqual(lists, [['http://10.0.0.1:8080'], ['http://10.0.0.2:8080']]);
    } finally {
      discovery.close();
    }
  });
});

void describe('a client on DNS discovery', () => {
  let first: Upstream;
  let second: Upstream;
  before(async () => {
    first = await startUpstream((_req, res) => sendJson(res, 200, { from: 'first' }));
    second = await startUpstream((_req, res) => sendJson(res, 200, { from: 'second' }));
  });
  after(async () => {
    await first.close();
    await second.close();
  });

  void test('waits for the first lookup, then follows the instance list as it changes', async () => {
    // The name resolves (after a slow lookup the first call must wait for) to 127.0.0.1, and
    // the port in the target is the first server's.
    const portOf = (upstream: Upstream) => Number(new URL(upstream.url).port);
    const events: HttpClientEvent[] = [];
    const client = createHttpClient({
      name: 'catalog',
      urls: `dns:catalog.test:${portOf(first)}`,
      dns: {
        refreshMs: 60_000,
        resolve4: async () => {
          await new Promise((resolve) => setTimeout(resolve, 20));
          return ['127.0.0.1'];
        },
      },
      onEvent: (event) => events.push(event),
    });
    try {
      const { body } = await client.request<{ from: string }>({ method: 'GET', path: '/p', signal: AbortSignal.timeout(2_000) });
      assert.deepEqual(body, { from: 'first' });
      assert.deepEqual(client.stats().instances.map((i) => i.instance), [first.url]);
      assert.ok(events.some((event) => event.type === 'discovery' && event.instances.length === 1));
    } finally {
      await client.close();
    }
    // A discovery of one's own, changed by hand: the client moves to the new instance.
    let target = first;
    const listeners = new Set<(instances: readonly string[]) => void>();
    const own = {
      instances: () => [target.url],
      subscribe: (listener: (instances: readonly string[]) => void) => {
        listeners.add(listener);
        return () => void listeners.delete(listener);
      },
      ready: Promise.resolve(),
      close: () => assert.fail('the client must not close a discovery it did not make'),
    };
    const followed = createHttpClient({ name: 'catalog', discovery: own });
    try {
      assert.deepEqual((await followed.request<{ from: string }>({ method: 'GET', path: '/p', signal: AbortSignal.timeout(2_000) })).body, { from: 'first' });
      target = second;
      for (const listener of listeners) listener([second.url]);
      assert.deepEqual((await followed.request<{ from: string }>({ method: 'GET', path: '/p', signal: AbortSignal.timeout(2_000) })).body, { from: 'second' });
      assert.deepEqual(followed.stats().instances.map((i) => i.instance), [second.url]);
    } finally {
      await followed.close();
    }
    assert.equal(listeners.size, 0, 'close unsubscribes');
  });

  void test('with no instance resolved, a call fails unavailable / no_instances', async () => {
    const client = createHttpClient({ name: 'ghost', urls: 'dns:ghost.test:80', retry: { maxAttempts: 1 }, dns: { resolve4: async () => { throw new Error('ENOTFOUND'); } } });
    try {
      await assert.rejects(client.request({ method: 'GET', path: '/p', signal: AbortSignal.timeout(2_000) }), { code: 'unavailable', reason: 'no_instances' });
    } finally {
      await client.close();
    }
  });
});
