import type { ServiceNode } from '../shop-graph.ts';

/**
 * One service's Dockerfile, the same pattern for every service (deploy/generate.ts writes each
 * to `services/<name>/Dockerfile`):
 * - built from the repository's root, so the lockfile and the workspaces it uses are in reach;
 * - one stage: it installs the service's production dependencies at the lockfile's versions,
 *   with no install scripts (none of them needs one: sharp's binaries come as packages), and
 *   npm's cache in a build cache mount, so no second stage is needed to leave it behind (a
 *   second stage cost each image a copy of its node_modules, a third of its build time);
 * - the image holds that, the service's own folder and the workspaces it uses, nothing else
 *   (no tests, no benchmarks, no other service), and runs `node` on the service's `main.ts`
 *   (Node 24 strips the types) as uid 1000, never root, with nothing written beside it: the
 *   root filesystem can be read-only, and what it writes goes to the folders it is told of;
 * - Node is PID 1 and the kit handles SIGTERM (readiness off, drain, close), so no init is
 *   needed: the service spawns no child to reap;
 * - no secret is in it: every one comes at run time, from the environment or a mounted file
 *   (`<NAME>_FILE`, docs/deploy.md).
 * The base image is an ARG: a public Node 24 image by default; deploy/images/build.sh gives the
 * one it makes here.
 */
export function dockerfileOf(service: ServiceNode, workspaces: { used: readonly string[] }): string {
  const { name, httpPort, grpcPort, adminPort } = service;
  const ports = [httpPort, grpcPort, adminPort].filter((port) => port !== undefined).join(' ');
  return `# The ${name} service's image. Written by deploy/generate.ts from the one pattern every
# service's image follows (deploy/images/dockerfile.ts); change it there, not here.
# Build from the repository's root:
#   podman build -f services/${name}/Dockerfile -t baton-${name} .
ARG NODE_IMAGE=docker.io/library/node:24-bookworm-slim

FROM \${NODE_IMAGE}
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
${[...workspaces.used, `services/${name}`].map((folder) => `COPY ${folder}/package.json ${folder}/`).join('\n')}
# The root made the root of this service's workspaces alone, so npm installs their production
# dependencies and nothing of the other workspaces (the runner's embedded PostgreSQL, say), at
# the versions the lockfile pins. npm's cache, and Node's compile cache that npm keeps in /tmp,
# are build caches, never a layer: what the image keeps is node_modules alone, and the next
# service's build finds the packages already fetched.
RUN ["node", "-e", "const fs = require('node:fs'); const root = JSON.parse(fs.readFileSync('package.json', 'utf8')); fs.writeFileSync('package.json', JSON.stringify({ name: root.name, private: true, type: root.type, workspaces: ${JSON.stringify([...workspaces.used, `services/${name}`]).replaceAll('"', "'")} }))"]
RUN --mount=type=cache,target=/root/.npm --mount=type=cache,target=/tmp/node-compile-cache ["node", "/usr/local/lib/node_modules/npm/bin/npm-cli.js", "install", "--omit=dev", "--ignore-scripts", "--no-audit", "--no-fund", "--no-update-notifier", "--prefer-offline"]
${workspaces.used.map((folder) => `COPY ${folder} ${folder}`).join('\n')}
COPY services/${name} services/${name}
USER 1000:1000
EXPOSE ${ports}
STOPSIGNAL SIGTERM
ENTRYPOINT ["node", "services/${name}/src/main.ts"]
`;
}
