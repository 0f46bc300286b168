import { urlsVariableOf, grpcUrlsVariableOf } from '../../packages/runner/src/services.ts';
import type { ServiceNode } from '../shop-graph.ts';

/** The namespace the manifests live in: the services' DNS names (`<name>-pods.baton.svc.cluster.local`) include it. */
export const namespace = 'baton';
const clusterDomain = `${namespace}.svc.cluster.local`;
/** The label that makes a namespace's pods the monitoring that may scrape `/metrics` on the admin ports. */
export const monitoringLabel = 'baton.dev/monitoring';
/** Where the kit's drain is given time to end: a preStop pause (endpoints catch up), then SIGTERM and the drain. */
export const preStopSeconds = 5;
// The kit's shutdown: SHUTDOWN_TIMEOUT_MS (10 s by default) for calls in flight, after the notice.
const drainSeconds = 11;

export type K8sObject = { apiVersion: string; kind: string; metadata: { name: string; labels?: Record<string, string>; [key: string]: unknown }; [key: string]: unknown };

export function labelsOf(name: string, component = 'service'): Record<string, string> {
  return { 'app.kubernetes.io/name': name, 'app.kubernetes.io/part-of': 'baton', 'app.kubernetes.io/component': component };
}
const selectorOf = (name: string) => ({ 'app.kubernetes.io/name': name });

/** The headless Service of a service's pods: one A record a ready pod, for the kit's client-side balancing (`dns:` URLs). */
export const podsServiceName = (name: string) => `${name}-pods`;
export const postgresName = (name: string) => `${name}-postgres`;

// Requests and limits: a checkout's CPU per service (bench/README.md, checkout-vs-bare) and the RSS
// each holds under load (stack-footprint); media renders images, so it gets the most memory.
const resources: Record<string, { cpu: string; memory: string; cpuLimit: string; memoryLimit: string }> = {
  media: { cpu: '250m', memory: '256Mi', cpuLimit: '1', memoryLimit: '768Mi' },
  default: { cpu: '100m', memory: '128Mi', cpuLimit: '1', memoryLimit: '384Mi' },
};

/** What a service's container is told: where it listens, whom it calls, and where each secret file is. */
export function configOf(service: ServiceNode, { events }: { events: boolean }): Record<string, string> {
  const upstreams = Object.fromEntries(service.calls.flatMap((called) => [
    [urlsVariableOf(called), `dns:${podsServiceName(called)}.${clusterDomain}:${portOfService(called, service, 'http')}`],
    ...(service.grpcCalls.includes(called) ? [[grpcUrlsVariableOf(called), `dns:${podsServiceName(called)}.${clusterDomain}:${portOfService(called, service, 'grpc')}`]] : []),
  ]));
  const addresses = Object.fromEntries(Object.entries(service.addresses).map(([variable, { of, path }]) => [variable, `http://${of}.${clusterDomain}:${addressPorts.get(of)}${path}`]));
  return {
    HOST: '0.0.0.0',
    PORT: String(service.httpPort),
    // Prometheus scrapes /metrics here; the NetworkPolicy lets only the monitoring namespace in,
    // and every /admin/* route still wants this service's admin token.
    ADMIN_HOST: '0.0.0.0',
    ADMIN_PORT: String(service.adminPort),
    ...(service.grpcPort === undefined ? {} : { GRPC_PORT: String(service.grpcPort) }),
    LOG_LEVEL: 'info',
    ...Object.fromEntries(Object.entries(service.memoryEnv).filter((entry): entry is [string, string] => entry[1] !== undefined)),
    ...Object.fromEntries(Object.keys(service.folders).map((variable) => [variable, `/data/${service.folders[variable]}`])),
    ...upstreams,
    ...addresses,
    ...(events ? { NATS_URL: `nats://nats.${clusterDomain}:4222` } : {}),
  };
}

// Filled by `serviceManifests`' caller (every service's node), so an address names the right port.
const addressPorts = new Map<string, number>();
const servicePorts = new Map<string, { http: number; grpc: number | undefined }>();
export function knowPorts(services: readonly ServiceNode[]): void {
  for (const s of services) {
    addressPorts.set(s.name, s.httpPort);
    servicePorts.set(s.name, { http: s.httpPort, grpc: s.grpcPort });
  }
}
function portOfService(name: string, caller: ServiceNode, kind: 'http' | 'grpc'): number {
  const ports = servicePorts.get(name);
  const port = ports?.[kind];
  if (port === undefined) throw new TypeError(`${caller.name} calls ${name} over ${kind}, which it does not serve`);
  return port;
}

/** The files a service's secrets are mounted as, and the variables that name them (`<NAME>_FILE`). */
export function secretFilesOf(service: ServiceNode): Array<{ variable: string; secret: string; key: string; path: string }> {
  const mount = '/var/run/secrets/baton';
  return [
    { variable: 'ADMIN_TOKEN_FILE', secret: `${service.name}-admin`, key: 'token', path: `${mount}/admin/token` },
    ...(service.database ? [{ variable: 'DATABASE_URL_FILE', secret: `${service.name}-database`, key: 'url', path: `${mount}/database/url` }] : []),
    ...(service.outside ? [] : [
      { variable: 'SERVICE_KEY_FILE', secret: `${service.name}-identity`, key: 'service-key', path: `${mount}/identity/service-key` },
      { variable: 'SERVICE_TRUST_FILE', secret: `${service.name}-identity`, key: 'service-trust', path: `${mount}/identity/service-trust` },
    ]),
    ...Object.entries(service.secrets).map(([variable, file]) => ({ variable, secret: `${service.name}-secrets`, key: file, path: `${mount}/secrets/${file}` })),
  ];
}

/** Every object one service needs: its identity, config, Deployment, Services, disruption budget, autoscaler and NetworkPolicy. */
export function serviceManifests(service: ServiceNode, { events }: { events: boolean }): K8sObject[] {
  const { name } = service;
  const labels = labelsOf(name);
  const files = secretFilesOf(service);
  const secretNames = [...new Set(files.map((f) => f.secret))];
  const size = resources[name] ?? resources.default!;
  const ports = [
    { name: 'http', containerPort: service.httpPort },
    ...(service.grpcPort === undefined ? [] : [{ name: 'grpc', containerPort: service.grpcPort }]),
    { name: 'admin', containerPort: service.adminPort },
  ];
  const folderVolumes = Object.values(service.folders).map((folder) => ({ name: `data-${folder}`, emptyDir: {} }));
  const container = {
    name,
    image: `baton-${name}`,
    imagePullPolicy: 'IfNotPresent',
    ports: ports.map((p) => ({ ...p, protocol: 'TCP' })),
    envFrom: [{ configMapRef: { name: `${name}-config` } }],
    env: files.map((f) => ({ name: f.variable, value: f.path })),
    resources: { requests: { cpu: size.cpu, memory: size.memory }, limits: { cpu: size.cpuLimit, memory: size.memoryLimit } },
    // Started: the gRPC listener serving (grpc.health.v1) for a gRPC service, else /healthz.
    startupProbe: service.grpcPort === undefined
      ? { httpGet: { path: '/healthz', port: 'http' }, periodSeconds: 2, failureThreshold: 30 }
      : { grpc: { port: service.grpcPort }, periodSeconds: 2, failureThreshold: 30 },
    readinessProbe: { httpGet: { path: '/readyz', port: 'http' }, periodSeconds: 5, timeoutSeconds: 3, failureThreshold: 2 },
    livenessProbe: { httpGet: { path: '/healthz', port: 'http' }, periodSeconds: 10, timeoutSeconds: 3, failureThreshold: 3 },
    // Endpoints are told the pod is going while it still serves; then SIGTERM, and the kit drains.
    lifecycle: { preStop: { exec: { command: ['node', '-e', `setTimeout(() => {}, ${preStopSeconds * 1_000})`] } } },
    securityContext: {
      runAsNonRoot: true, runAsUser: 1000, runAsGroup: 1000, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'] }, seccompProfile: { type: 'RuntimeDefault' },
    },
    volumeMounts: [
      { name: 'tmp', mountPath: '/tmp' },
      ...Object.values(service.folders).map((folder) => ({ name: `data-${folder}`, mountPath: `/data/${folder}` })),
      ...secretNames.map((secret) => ({ name: secret, mountPath: files.find((f) => f.secret === secret)!.path.replace(/\/[^/]+$/, ''), readOnly: true })),
    ],
  };
  const deployment = {
    apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name, labels },
    spec: {
      replicas: 2,
      revisionHistoryLimit: 5,
      selector: { matchLabels: selectorOf(name) },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
      template: {
        metadata: { labels: { ...labels, ...(events ? { 'baton.dev/events': 'true' } : {}) } },
        spec: {
          serviceAccountName: name,
          automountServiceAccountToken: false,
          terminationGracePeriodSeconds: preStopSeconds + drainSeconds + 4,
          securityContext: { runAsNonRoot: true, runAsUser: 1000, runAsGroup: 1000, fsGroup: 1000, seccompProfile: { type: 'RuntimeDefault' } },
          topologySpreadConstraints: [{ maxSkew: 1, topologyKey: 'kubernetes.io/hostname', whenUnsatisfiable: 'ScheduleAnyway', labelSelector: { matchLabels: selectorOf(name) } }],
          containers: [container],
          volumes: [
            { name: 'tmp', emptyDir: { sizeLimit: '64Mi' } },
            ...folderVolumes,
            ...secretNames.map((secret) => ({ name: secret, secret: { secretName: secret, defaultMode: 0o400 } })),
          ],
        },
      },
    },
  };
  const servicePorts = ports.filter((p) => p.name !== 'admin').map((p) => ({ name: p.name, port: p.containerPort, targetPort: p.name, protocol: 'TCP', ...(p.name === 'grpc' ? { appProtocol: 'kubernetes.io/h2c' } : {}) }));
  return [
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name, labels }, automountServiceAccountToken: false },
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `${name}-config`, labels }, data: configOf(service, { events }) },
    deployment,
    { apiVersion: 'v1', kind: 'Service', metadata: { name, labels }, spec: { selector: selectorOf(name), ports: servicePorts } },
    { apiVersion: 'v1', kind: 'Service', metadata: { name: podsServiceName(name), labels }, spec: { clusterIP: 'None', selector: selectorOf(name), ports: servicePorts } },
    { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name, labels }, spec: { maxUnavailable: 1, selector: { matchLabels: selectorOf(name) } } },
    {
      apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', metadata: { name, labels },
      spec: {
        scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name }, minReplicas: 2, maxReplicas: 6,
        metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 70 } } }],
      },
    },
    networkPolicyOf(service, { events }),
  ];
}

const dnsEgress = {
  to: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } }, podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } } }],
  ports: [{ protocol: 'UDP', port: 53 }, { protocol: 'TCP', port: 53 }],
};

/**
 * Who may reach a service and whom it may reach, exactly the call graph: in, its callers on the
 * ports they call (the gateway: anyone, on HTTP, it is the public entry), and the monitoring
 * namespace on the admin port; out, the services it calls on theirs, its own PostgreSQL, NATS
 * if it publishes or consumes events, and DNS. Everything else is denied (default-deny.yaml).
 */
export function networkPolicyOf(service: ServiceNode, { events }: { events: boolean }): K8sObject {
  const ingressPorts = (kinds: Array<'http' | 'grpc'>) => kinds.flatMap((kind) => {
    const port = kind === 'http' ? service.httpPort : service.grpcPort;
    return port === undefined ? [] : [{ protocol: 'TCP', port }];
  });
  const ingress = [
    ...(service.name === 'gateway'
      ? [{ ports: ingressPorts(['http']) }]
      : service.callers.length === 0 ? [] : [{ from: service.callers.map((caller) => ({ podSelector: { matchLabels: selectorOf(caller) } })), ports: ingressPorts(['http', 'grpc']) }]),
    { from: [{ namespaceSelector: { matchLabels: { [monitoringLabel]: 'true' } } }], ports: [{ protocol: 'TCP', port: service.adminPort }] },
  ];
  const egress = [
    dnsEgress,
    ...service.reaches.map((called) => {
      const ports = servicePorts.get(called)!;
      return {
        to: [{ podSelector: { matchLabels: selectorOf(called) } }],
        ports: [{ protocol: 'TCP', port: ports.http }, ...(ports.grpc === undefined || !service.grpcCalls.includes(called) ? [] : [{ protocol: 'TCP', port: ports.grpc }])],
      };
    }),
    ...(service.database ? [{ to: [{ podSelector: { matchLabels: selectorOf(postgresName(service.name)) } }], ports: [{ protocol: 'TCP', port: 5432 }] }] : []),
    ...(events ? [{ to: [{ podSelector: { matchLabels: selectorOf('nats') } }], ports: [{ protocol: 'TCP', port: 4222 }] }] : []),
  ];
  return {
    apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: service.name, labels: labelsOf(service.name) },
    spec: { podSelector: { matchLabels: selectorOf(service.name) }, policyTypes: ['Ingress', 'Egress'], ingress, egress },
  };
}
