import { promises as dns } from 'node:dns';
import { isIP } from 'node:net';
import type { Discovery } from './discovery.ts';

export interface DnsDiscoveryOptions {
  /** How often the name is resolved again. */
  refreshMs?: number;
  protocol?: 'http' | 'https';
  /** Resolves the name to IPv4 addresses; `dns.resolve4` (the DNS server, not /etc/hosts) by default. */
  resolve4?: (hostname: string) => Promise<string[]>;
  /** Told of each failed lookup; the last good answer stays in use meanwhile. */
  onError?: (error: unknown) => void;
}

export interface DnsDiscovery extends Discovery {
  /** Resolves the name now; what the timer does every `refreshMs`. */
  refresh(): Promise<void>;
}

/**
 * Parses `dns:<host>:<port>`, the form `<SERVICE>_URLS` takes for a name with several A records
 * (a Kubernetes headless service, say).
 *
 * @example
 * parseDnsTarget('dns:catalog.baton.svc:8080'); // { host: 'catalog.baton.svc', port: 8080 }
 */
export function parseDnsTarget(target: string): { host: string; port: number } {
  const match = /^dns:([A-Za-z0-9.-]+):(\d{1,5})$/.exec(target.trim());
  const port = Number(match?.[2]);
  if (match?.[1] === undefined || !(port > 0 && port < 65_536)) throw new TypeError(`not a dns:<host>:<port> target: ${target}`);
  return { host: match[1], port };
}

/**
 * The instances behind a DNS name: every A record, resolved at once and again every
 * `refreshMs`. A failed or empty answer keeps the last good list, because a DNS hiccup must not
 * empty a healthy pool; the first lookup's outcome settles `ready`.
 *
 * @example
 * const discovery = createDnsDiscovery('dns:catalog.baton.svc:8080', { onError: (err) => log.warn({ err }, 'dns') });
 */
export function createDnsDiscovery(target: string, { refreshMs = 5_000, protocol = 'http', resolve4 = (host) => dns.resolve4(host), onError }: DnsDiscoveryOptions = {}): DnsDiscovery {
  const { host, port } = parseDnsTarget(target);
  const listeners = new Set<(instances: readonly string[]) => void>();
  let instances: readonly string[] = [];
  let inFlight: Promise<void> | undefined;
  let closed = false;

  async function lookUp(): Promise<void> {
    try {
      const addresses = isIP(host) === 4 ? [host] : await resolve4(host);
      if (closed) return;
      if (addresses.length === 0) throw new Error(`${host} has no A records`);
      const next = [...new Set(addresses)].sort().map((address) => `${protocol}://${address}:${port}`);
      if (next.length === instances.length && next.every((origin, i) => origin === instances[i])) return;
      instances = Object.freeze(next);
      for (const listener of listeners) listener(instances);
    } catch (error) {
      if (!closed) onError?.(error);
    }
  }

  // One lookup at a time: a slow DNS server must not pile up lookups.
  function refresh(): Promise<void> {
    inFlight ??= lookUp().finally(() => {
      inFlight = undefined;
    });
    return inFlight;
  }

  const ready = refresh();
  const timer = setInterval(() => void refresh(), refreshMs);
  // A refresh timer must never keep a finished process alive.
  timer.unref();

  return {
    instances: () => instances,
    subscribe(listener) {
      listeners.add(listener);
      return () => void listeners.delete(listener);
    },
    ready,
    refresh,
    close() {
      closed = true;
      clearInterval(timer);
      listeners.clear();
    },
  };
}
