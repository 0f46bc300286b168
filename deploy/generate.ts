import { readFileSync, writeFileSync, mkdirSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { dockerfileOf } from './images/dockerfile.ts';
import { natsManifests, namespaceManifests, postgresManifests } from './k8s/platform-manifests.ts';
import { knowPorts, serviceManifests, type K8sObject } from './k8s/service-manifests.ts';
import { serviceWorkspaces, shopGraph } from './shop-graph.ts';

/**
 * Writes what a deployment is made of from the runner's service list (deploy/shop-graph.ts):
 * each service's Dockerfile and the Kustomize base under deploy/k8s/base (and the payment
 * provider's sandbox as a component, for the local overlay only). `--check` writes nothing and
 * fails when a file differs from what would be written: CI runs it (test/deploy), so the
 * manifests cannot drift from the code.
 *
 *   node deploy/generate.ts          # write
 *   node deploy/generate.ts --check  # compare
 */
export const repoRoot = fileURLToPath(new URL('../', import.meta.url));
const header = '# Written by deploy/generate.ts from the runner\'s service list; change the code there, not this file.\n';

/** Which services publish or consume events: those whose config takes the broker's fields (NATS_URL). */
function usesEvents(name: string): boolean {
  return readFileSync(join(repoRoot, 'services', name, 'src', 'config.ts'), 'utf8').includes('messagingConfigFields');
}

function yamlOf(objects: readonly K8sObject[]): string {
  return header + objects.map((o) => stringify(o, { lineWidth: 0 })).join('---\n');
}

/** Every file, by its path from the repository's root, with what it should hold. */
export function renderAll(): Map<string, string> {
  knowPorts(shopGraph);
  const files = new Map<string, string>();
  const base = 'deploy/k8s/base';
  const inShop = shopGraph.filter((s) => !s.outside);
  for (const service of shopGraph) {
    files.set(`services/${service.name}/Dockerfile`, dockerfileOf(service, { used: serviceWorkspaces }));
  }
  files.set(`${base}/namespace.yaml`, yamlOf(namespaceManifests()));
  files.set(`${base}/nats.yaml`, yamlOf(natsManifests()));
  for (const service of inShop) {
    files.set(`${base}/services/${service.name}.yaml`, yamlOf(serviceManifests(service, { events: usesEvents(service.name) })));
    if (service.database) files.set(`${base}/postgres/${service.name}.yaml`, yamlOf(postgresManifests(service.name)));
  }
  files.set(`${base}/kustomization.yaml`, header + stringify({
    apiVersion: 'kustomize.config.k8s.io/v1beta1', kind: 'Kustomization', namespace: 'baton',
    resources: ['namespace.yaml', 'nats.yaml', ...inShop.map((s) => `services/${s.name}.yaml`), ...inShop.filter((s) => s.database).map((s) => `postgres/${s.name}.yaml`)],
  }));
  // The payment provider stands in for Stripe: a component the local overlay adds, never production.
  const sandbox = 'deploy/k8s/components/provider-sandbox';
  for (const service of shopGraph.filter((s) => s.outside)) {
    files.set(`${sandbox}/${service.name}.yaml`, yamlOf([...serviceManifests(service, { events: false }), ...postgresManifests(service.name)]));
  }
  files.set(`${sandbox}/kustomization.yaml`, header + stringify({
    apiVersion: 'kustomize.config.k8s.io/v1alpha1', kind: 'Component',
    resources: shopGraph.filter((s) => s.outside).map((s) => `${s.name}.yaml`),
  }));
  return files;
}

if (import.meta.main) {
  const check = process.argv.includes('--check');
  const stale: string[] = [];
  for (const [path, content] of renderAll()) {
    const full = join(repoRoot, path);
    const now = existsSync(full) ? readFileSync(full, 'utf8') : undefined;
    if (now === content) continue;
    if (check) stale.push(path);
    else {
      mkdirSync(dirname(full), { recursive: true });
      writeFileSync(full, content);
      console.log(`wrote ${path}`);
    }
  }
  if (stale.length > 0) {
    console.error(`not as deploy/generate.ts writes them (run it): ${stale.join(', ')}`);
    process.exitCode = 1;
  }
}
