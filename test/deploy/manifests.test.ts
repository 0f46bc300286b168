import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { renderAll, repoRoot } from '../../deploy/generate.ts';
import { preStopSeconds } from '../../deploy/k8s/service-manifests.ts';
import { shopGraph } from '../../deploy/shop-graph.ts';
import { defaultServiceLimits } from '../../packages/kit/src/service/service-limits.ts';

type Labels = Record<string, string>;
type Peer = { podSelector?: { matchLabels?: Labels }; namespaceSelector?: { matchLabels?: Labels } };
type PolicyRule = { from?: Peer[]; to?: Peer[] };
type Container = {
  name: string; image: string; readinessProbe?: object; livenessProbe?: object; lifecycle?: { preStop?: object };
  resources?: { requests?: { cpu?: string; memory?: string }; limits?: { cpu?: string; memory?: string } };
  securityContext?: { runAsNonRoot?: boolean; runAsUser?: number; readOnlyRootFilesystem?: boolean; allowPrivilegeEscalation?: boolean; capabilities?: { drop?: string[] } };
};
type PodSpec = {
  containers: Container[]; initContainers?: Container[]; automountServiceAccountToken?: boolean; terminationGracePeriodSeconds: number;
  securityContext?: { runAsNonRoot?: boolean; seccompProfile?: { type?: string } };
};
type Manifest = {
  apiVersion: string; kind: string; metadata: { name: string; labels?: Labels }; data?: Record<string, string>;
  spec: {
    replicas?: number; clusterIP?: string; selector: { matchLabels: Labels }; template: { metadata: { labels: Labels }; spec: PodSpec };
    scaleTargetRef: { name: string }; podSelector: { matchLabels?: Labels }; policyTypes: string[]; ingress?: PolicyRule[]; egress?: PolicyRule[];
  };
};

/** `kubectl kustomize <folder>`, parsed: what a cluster would be given. kubectl is on these machines; elsewhere skipped, under CI required. */
function render(folder: string): Manifest[] {
  const text = execFileSync('kubectl', ['kustomize', join(repoRoot, folder)], { encoding: 'utf8', maxBuffer: 32 * 1024 * 1024 });
  return parseAllDocuments(text).map((doc) => doc.toJSON() as Manifest);
}
const kubectl = spawnSync('kubectl', ['version', '--client'], { stdio: 'ignore' }).status === 0;
if (!kubectl && process.env.CI === 'true') throw new Error('kubectl is required under CI=true');
const skip = kubectl ? false : 'kubectl is not installed — skipped (CI=true requires it)';

const overlays = ['deploy/k8s/overlays/local', 'deploy/k8s/overlays/production'];
const podSpecOf = (m: Manifest): PodSpec => m.spec.template.spec;
const workloads = (objects: Manifest[]) => objects.filter((m) => m.kind === 'Deployment' || m.kind === 'StatefulSet');

void test('the Dockerfiles and the Kustomize base are as deploy/generate.ts writes them from the service list (run it after changing a service)', () => {
  const stale = [...renderAll()].filter(([path, content]) => !existsSync(join(repoRoot, path)) || readFileSync(join(repoRoot, path), 'utf8') !== content).map(([path]) => path);
  assert.deepEqual(stale, []);
  for (const service of shopGraph) assert.ok(existsSync(join(repoRoot, 'services', service.name, 'Dockerfile')), `${service.name} has its Dockerfile`);
});

void describe('the Kubernetes manifests, rendered as kubectl kustomize renders them', { skip }, () => {
  for (const overlay of overlays) {
    void test(`${overlay}: every object is valid against the Kubernetes schemas`, async () => {
      const objects = render(overlay);
      assert.ok(objects.length > 40, `${objects.length} objects`);
      for (const object of objects) {
        const [group, version] = object.apiVersion.includes('/') ? object.apiVersion.split('/') : [undefined, object.apiVersion];
        const module = await import(`kubernetes-models/${group === undefined ? '' : `${group}/`}${version}/${object.kind}`) as Record<string, new (o: unknown) => { validate(): void }>;
        const Model = module[object.kind]!;
        assert.doesNotThrow(() => new Model(object).validate(), `${object.kind} ${object.metadata.name}`);
      }
    });

    void test(`${overlay}: every container has probes, limits and a non-root, read-only, capability-free securityContext`, () => {
      for (const workload of workloads(render(overlay))) {
        const pod = podSpecOf(workload);
        assert.equal(pod.automountServiceAccountToken, false, `${workload.metadata.name}: no API token mounted`);
        assert.equal(pod.securityContext?.runAsNonRoot, true, workload.metadata.name);
        assert.equal(pod.securityContext?.seccompProfile?.type, 'RuntimeDefault', workload.metadata.name);
        for (const container of [...pod.containers, ...(pod.initContainers ?? [])]) {
          const where = `${workload.metadata.name}/${container.name}`;
          assert.ok(container.readinessProbe && container.livenessProbe, `${where}: readiness and liveness probes`);
          assert.ok(container.resources?.limits?.cpu && container.resources?.limits?.memory, `${where}: CPU and memory limits`);
          assert.ok(container.resources?.requests?.cpu && container.resources?.requests?.memory, `${where}: requests`);
          const security = container.securityContext ?? {};
          assert.equal(security.runAsNonRoot, true, `${where}: non-root`);
          assert.ok(typeof security.runAsUser === 'number' && security.runAsUser !== 0, `${where}: a uid other than 0`);
          assert.equal(security.readOnlyRootFilesystem, true, `${where}: read-only root filesystem`);
          assert.equal(security.allowPrivilegeEscalation, false, `${where}: no privilege escalation`);
          assert.deepEqual(security.capabilities?.drop, ['ALL'], `${where}: every capability dropped`);
        }
      }
    });

    void test(`${overlay}: every Deployment has a PodDisruptionBudget and an autoscaler, and time to drain`, () => {
      const objects = render(overlay);
      const budgets = objects.filter((m) => m.kind === 'PodDisruptionBudget');
      const scalers = objects.filter((m) => m.kind === 'HorizontalPodAutoscaler');
      const deployments = objects.filter((m) => m.kind === 'Deployment');
      assert.ok(deployments.length >= 7);
      for (const deployment of deployments) {
        const labels = deployment.spec.template.metadata.labels;
        const selects = (selector: Record<string, string>) => Object.entries(selector).every(([k, v]) => labels[k] === v);
        assert.ok(budgets.some((b) => selects(b.spec.selector.matchLabels)), `${deployment.metadata.name} has a PodDisruptionBudget`);
        assert.ok(scalers.some((s) => s.spec.scaleTargetRef.name === deployment.metadata.name), `${deployment.metadata.name} has an autoscaler`);
        const pod = podSpecOf(deployment);
        // The preStop pause, then the kit's whole drain, before the kubelet's SIGKILL.
        assert.ok(pod.terminationGracePeriodSeconds >= preStopSeconds + defaultServiceLimits.shutdownTimeoutMs / 1_000, `${deployment.metadata.name}: ${pod.terminationGracePeriodSeconds} s to stop`);
        assert.ok(pod.containers[0]?.lifecycle?.preStop, `${deployment.metadata.name}: a preStop pause`);
      }
    });

    void test(`${overlay}: no secret is in the manifests, only references to Secrets made outside them`, () => {
      const objects = render(overlay);
      assert.deepEqual(objects.filter((m) => m.kind === 'Secret').map((m) => m.metadata.name), []);
      for (const config of objects.filter((m) => m.kind === 'ConfigMap')) {
        for (const variable of Object.keys(config.data ?? {})) assert.doesNotMatch(variable, /KEY$|SECRET|PASSWORD|TOKEN$|DATABASE_URL$/, `${config.metadata.name}: ${variable} belongs in a Secret`);
      }
    });

    void test(`${overlay}: the NetworkPolicies allow exactly the call graph the code declares (packages/runner/src/services.ts), and deny the rest`, () => {
      const objects = render(overlay);
      const policies = objects.filter((m) => m.kind === 'NetworkPolicy');
      assert.ok(policies.some((p) => p.metadata.name === 'default-deny' && Object.keys(p.spec.podSelector).length === 0 && p.spec.policyTypes.includes('Ingress') && p.spec.policyTypes.includes('Egress')), 'a default deny for the whole namespace');
      const deployed = new Set(objects.filter((m) => m.kind === 'Deployment').map((m) => m.metadata.name));
      const appOf = (selector: { matchLabels?: Record<string, string> } | undefined) => selector?.matchLabels?.['app.kubernetes.io/name'];
      const policyOf = (name: string) => policies.filter((p) => appOf(p.spec.podSelector) === name);
      // An edge is allowed when the caller's policy lets it out to the callee's pods and the callee's lets it in from the caller's.
      const allowed = new Set<string>();
      for (const caller of deployed) {
        for (const callee of deployed) {
          const out = policyOf(caller).some((p) => (p.spec.egress ?? []).some((rule) => (rule.to ?? []).some((peer) => appOf(peer.podSelector) === callee)));
          const into = policyOf(callee).some((p) => (p.spec.ingress ?? []).some((rule) => rule.from === undefined || rule.from.some((peer) => appOf(peer.podSelector) === caller)));
          if (out && into) allowed.add(`${caller} → ${callee}`);
        }
      }
      const declared = new Set(shopGraph.filter((s) => deployed.has(s.name)).flatMap((s) => s.reaches.filter((called) => deployed.has(called)).map((called) => `${s.name} → ${called}`)));
      assert.deepEqual([...allowed].toSorted(), [...declared].toSorted());
      // Each service's database is reached by that service alone.
      for (const database of objects.filter((m) => m.kind === 'StatefulSet' && m.metadata.labels?.['app.kubernetes.io/component'] === 'database')) {
        const from = policyOf(database.metadata.name).flatMap((p) => (p.spec.ingress ?? []).flatMap((rule) => (rule.from ?? []).map((peer) => appOf(peer.podSelector))));
        assert.deepEqual(from, [database.metadata.name.replace(/-postgres$/, '')]);
      }
    });
  }

  void test('the overlays differ as docs/deploy.md says: local runs the built images and the provider sandbox; production pulls tagged images and calls Stripe', () => {
    const local = render(overlays[0]!);
    const production = render(overlays[1]!);
    const images = (objects: Manifest[]) => objects.filter((m) => m.kind === 'Deployment').map((m) => podSpecOf(m).containers[0]!.image);
    assert.ok(images(local).every((image) => image.startsWith('localhost/baton-') && image.endsWith(':dev')), images(local).join(', '));
    assert.ok(images(production).every((image) => /^ghcr\.io\/baton-shop\/baton-[a-z]+:\d+\.\d+\.\d+$/.test(image)), images(production).join(', '));
    assert.ok(local.some((m) => m.kind === 'Deployment' && m.metadata.name === 'provider'));
    assert.ok(!production.some((m) => m.metadata.name === 'provider'));
    assert.equal(production.find((m) => m.kind === 'ConfigMap' && m.metadata.name === 'payment-config')?.data?.PROVIDER_URL, 'https://api.stripe.com');
    // The kit's client-side balancing finds every pod of a service through its headless Service.
    const orders = local.find((m) => m.kind === 'ConfigMap' && m.metadata.name === 'orders-config')!;
    assert.equal(orders.data?.INVENTORY_GRPC_URLS, 'dns:inventory-pods.baton.svc.cluster.local:9082');
    assert.equal(local.find((m) => m.kind === 'Service' && m.metadata.name === 'inventory-pods')?.spec.clusterIP, 'None');
    assert.equal(local.find((m) => m.kind === 'Deployment' && m.metadata.name === 'inventory')?.spec.replicas, 2);
  });
});
