import { type DnsDiscoveryOptions, createDnsDiscovery } from './dns-discovery.ts';
import { type Discovery, createStaticDiscovery } from './discovery.ts';

/**
 * The discovery a `<SERVICE>_URLS` value names: `dns:<host>:<port>` for DNS, otherwise a
 * comma-separated list of instance URLs (or the list already split).
 *
 * @example
 * discoveryFrom(config.CATALOG_URLS); // 'http://catalog-0:8080,http://catalog-1:8080' or 'dns:catalog:8080'
 */
export function discoveryFrom(value: string | readonly string[], dnsOptions: DnsDiscoveryOptions = {}): Discovery {
  const entries = (typeof value === 'string' ? value.split(',') : value).map((entry) => entry.trim()).filter((entry) => entry !== '');
  const [first] = entries;
  if (first?.startsWith('dns:') === true) {
    if (entries.length > 1) throw new TypeError('a dns: target stands alone; it cannot be mixed with URLs');
    return createDnsDiscovery(first, dnsOptions);
  }
  return createStaticDiscovery(entries);
}
