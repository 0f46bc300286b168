import { labelsOf, monitoringLabel, namespace, postgresName, type K8sObject } from './service-manifests.ts';

const restricted = { runAsNonRoot: true, allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] }, seccompProfile: { type: 'RuntimeDefault' } };
const selectorOf = (name: string) => ({ 'app.kubernetes.io/name': name });

/** The namespace, and a NetworkPolicy that denies every connection no other policy allows. */
export function namespaceManifests(): K8sObject[] {
  return [
    {
      apiVersion: 'v1', kind: 'Namespace',
      // The restricted Pod Security Standard: every pod here must run as the manifests say (non-root, no capabilities, seccomp).
      metadata: { name: namespace, labels: { 'app.kubernetes.io/part-of': 'baton', 'pod-security.kubernetes.io/enforce': 'restricted', 'pod-security.kubernetes.io/enforce-version': 'latest' } },
    },
    { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'default-deny', labels: { 'app.kubernetes.io/part-of': 'baton' } }, spec: { podSelector: {}, policyTypes: ['Ingress', 'Egress'] } },
  ];
}

/**
 * A PostgreSQL of a service's own (a database per service, as under npm start): a one-pod
 * StatefulSet with its volume, reachable by that service's pods only. The service makes its tables
 * at start (the kit's migrations, under an advisory lock, so replicas starting together take
 * turns). For production, a CloudNativePG `Cluster` with replicas and backups is the better
 * home (docs/deploy.md); this is what runs with nothing but Kubernetes.
 */
export function postgresManifests(service: string): K8sObject[] {
  const name = postgresName(service);
  const labels = labelsOf(name, 'database');
  const ready = { exec: { command: ['pg_isready', '--host=127.0.0.1', `--username=${service}`, `--dbname=${service}`] } };
  return [
    {
      apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { name, labels },
      spec: {
        serviceName: name, replicas: 1, selector: { matchLabels: selectorOf(name) },
        template: {
          metadata: { labels },
          spec: {
            automountServiceAccountToken: false,
            securityContext: { runAsNonRoot: true, runAsUser: 999, runAsGroup: 999, fsGroup: 999, seccompProfile: { type: 'RuntimeDefault' } },
            containers: [{
              name: 'postgres',
              image: 'docker.io/library/postgres:17-bookworm',
              ports: [{ name: 'postgres', containerPort: 5432, protocol: 'TCP' }],
              env: [
                { name: 'POSTGRES_DB', value: service },
                { name: 'POSTGRES_USER', value: service },
                { name: 'POSTGRES_PASSWORD_FILE', value: '/var/run/secrets/baton/postgres/password' },
                { name: 'PGDATA', value: '/var/lib/postgresql/data/pgdata' },
              ],
              resources: { requests: { cpu: '100m', memory: '256Mi' }, limits: { cpu: '1', memory: '1Gi' } },
              startupProbe: { ...ready, periodSeconds: 2, failureThreshold: 60 },
              readinessProbe: { ...ready, periodSeconds: 5 },
              livenessProbe: { ...ready, periodSeconds: 10, failureThreshold: 6 },
              securityContext: { ...restricted, runAsUser: 999 },
              volumeMounts: [
                { name: 'data', mountPath: '/var/lib/postgresql/data' },
                { name: 'run', mountPath: '/var/run/postgresql' },
                { name: 'tmp', mountPath: '/tmp' },
                { name: 'password', mountPath: '/var/run/secrets/baton/postgres', readOnly: true },
              ],
            }],
            volumes: [
              { name: 'run', emptyDir: {} },
              { name: 'tmp', emptyDir: {} },
              { name: 'password', secret: { secretName: `${name}`, defaultMode: 0o400, items: [{ key: 'password', path: 'password' }] } },
            ],
          },
        },
        volumeClaimTemplates: [{ metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '5Gi' } } } }],
      },
    },
    { apiVersion: 'v1', kind: 'Service', metadata: { name, labels }, spec: { clusterIP: 'None', selector: selectorOf(name), ports: [{ name: 'postgres', port: 5432, targetPort: 'postgres', protocol: 'TCP' }] } },
    {
      apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name, labels },
      spec: {
        podSelector: { matchLabels: selectorOf(name) }, policyTypes: ['Ingress', 'Egress'],
        ingress: [{ from: [{ podSelector: { matchLabels: selectorOf(service) } }], ports: [{ protocol: 'TCP', port: 5432 }] }],
        egress: [],
      },
    },
  ];
}

/**
 * NATS with JetStream as a three-node cluster (a StatefulSet: stable names for its routes, a
 * volume each for the streams), reachable on 4222 by the pods that publish or consume events
 * (label `baton.dev/events`), its nodes by each other on 6222, its monitoring on 8222.
 */
export function natsManifests(): K8sObject[] {
  const labels = labelsOf('nats', 'broker');
  const replicas = 3;
  const routes = Array.from({ length: replicas }, (_, i) => `nats://nats-${i}.nats-cluster.${namespace}.svc.cluster.local:6222`).join(',');
  const health = { httpGet: { path: '/healthz?js-enabled-only=true', port: 'monitor' } };
  return [
    {
      apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { name: 'nats', labels },
      spec: {
        serviceName: 'nats-cluster', replicas, podManagementPolicy: 'Parallel', selector: { matchLabels: selectorOf('nats') },
        template: {
          metadata: { labels },
          spec: {
            automountServiceAccountToken: false,
            terminationGracePeriodSeconds: 60,
            securityContext: { runAsNonRoot: true, runAsUser: 1000, runAsGroup: 1000, fsGroup: 1000, seccompProfile: { type: 'RuntimeDefault' } },
            containers: [{
              name: 'nats',
              image: 'docker.io/library/nats:2.11-alpine',
              args: ['--name=$(POD_NAME)', '--jetstream', '--store_dir=/data', '--cluster_name=baton', '--cluster=nats://0.0.0.0:6222', `--routes=${routes}`, '--http_port=8222'],
              env: [{ name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }],
              ports: [{ name: 'client', containerPort: 4222, protocol: 'TCP' }, { name: 'cluster', containerPort: 6222, protocol: 'TCP' }, { name: 'monitor', containerPort: 8222, protocol: 'TCP' }],
              resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { cpu: '1', memory: '512Mi' } },
              startupProbe: { ...health, periodSeconds: 2, failureThreshold: 60 },
              readinessProbe: { ...health, periodSeconds: 5 },
              livenessProbe: { httpGet: { path: '/healthz', port: 'monitor' }, periodSeconds: 10, failureThreshold: 6 },
              lifecycle: { preStop: { exec: { command: ['nats-server', '--signal', 'ldm'] } } },
              securityContext: { ...restricted, runAsUser: 1000 },
              volumeMounts: [{ name: 'data', mountPath: '/data' }],
            }],
          },
        },
        volumeClaimTemplates: [{ metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '10Gi' } } } }],
      },
    },
    { apiVersion: 'v1', kind: 'Service', metadata: { name: 'nats', labels }, spec: { selector: selectorOf('nats'), ports: [{ name: 'client', port: 4222, targetPort: 'client', protocol: 'TCP' }] } },
    {
      apiVersion: 'v1', kind: 'Service', metadata: { name: 'nats-cluster', labels },
      spec: {
        clusterIP: 'None', publishNotReadyAddresses: true, selector: selectorOf('nats'),
        ports: [{ name: 'client', port: 4222, targetPort: 'client', protocol: 'TCP' }, { name: 'cluster', port: 6222, targetPort: 'cluster', protocol: 'TCP' }, { name: 'monitor', port: 8222, targetPort: 'monitor', protocol: 'TCP' }],
      },
    },
    { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name: 'nats', labels }, spec: { minAvailable: 2, selector: { matchLabels: selectorOf('nats') } } },
    {
      apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'nats', labels },
      spec: {
        podSelector: { matchLabels: selectorOf('nats') }, policyTypes: ['Ingress', 'Egress'],
        ingress: [
          { from: [{ podSelector: { matchLabels: { 'baton.dev/events': 'true' } } }], ports: [{ protocol: 'TCP', port: 4222 }] },
          { from: [{ podSelector: { matchLabels: selectorOf('nats') } }], ports: [{ protocol: 'TCP', port: 6222 }] },
          { from: [{ namespaceSelector: { matchLabels: { [monitoringLabel]: 'true' } } }], ports: [{ protocol: 'TCP', port: 8222 }] },
        ],
        egress: [
          { to: [{ podSelector: { matchLabels: selectorOf('nats') } }], ports: [{ protocol: 'TCP', port: 6222 }] },
          { to: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } }, podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } } }], ports: [{ protocol: 'UDP', port: 53 }, { protocol: 'TCP', port: 53 }] },
        ],
      },
    },
  ];
}
