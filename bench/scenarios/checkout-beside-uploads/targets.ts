import { readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { request, type Agent } from 'undici';
import { metricValue, parseMetrics } from '../../../packages/kit/src/testing/metrics.ts';
import { testIdentity } from '../../../packages/kit/src/testing/service-identity.ts';
import type { Stack } from '../../../packages/runner/src/index.ts';
import type { UploadTarget } from './uploaders.ts';

/** Where phase 2's uploads go: the gateway's public route (the default), or media's own as the gateway would call it. */
export type MediaRoute = 'gateway' | 'media';

/**
 * Media's upload route, reached as `via` says: through the gateway's public route with the
 * staff token, or straight to media's own route with what the gateway sends it (the gateway's
 * service token, which the stack was started to trust, and the staff token).
 */
export function mediaTarget(stack: Stack, via: MediaRoute, staffToken: string): UploadTarget {
  const authorization = `Bearer ${staffToken}`;
  if (via === 'gateway') {
    return { label: 'through the gateway', urlOf: (sku) => `${stack.url('gateway')}/api/v1/products/${sku}/images`, headers: async () => ({ authorization }) };
  }
  return {
    label: "straight to media's route (no gateway hop)",
    urlOf: (sku) => `${stack.url('media')}/v1/products/${sku}/images`,
    headers: async () => ({ ...await testIdentity.headers('gateway', 'media'), authorization }),
  };
}

/**
 * Whether the gateway has the public upload route: asked without a token and without a body,
 * a route that is there refuses the caller (401); one that is not answers 404.
 */
export async function gatewayHasUploadRoute(stack: Stack, dispatcher: Agent): Promise<boolean> {
  const answer = await request(`${stack.url('gateway')}/api/v1/products/MUG-STONEWARE/images`, { method: 'POST', dispatcher });
  await answer.body.dump();
  return answer.statusCode !== 404;
}

/** The server inside orders (uploads-in-orders.ts): no gateway hop, no token asked. */
export function insideOrdersTarget(port: number): UploadTarget {
  return { label: 'inside the orders process (no gateway hop)', urlOf: (sku) => `http://127.0.0.1:${port}/v1/products/${sku}/images`, headers: async () => ({}) };
}

/** The port the server inside orders wrote to its file, once it has. */
export async function insideOrdersPort(portFile: string, { timeoutMs = 15_000 } = {}): Promise<number> {
  const giveUpAt = performance.now() + timeoutMs;
  for (;;) {
    const text = await readFile(portFile, 'utf8').catch(() => '');
    if (/^\d+$/.test(text)) return Number(text);
    if (performance.now() > giveUpAt) throw new Error(`the upload server inside orders wrote no port to ${portFile} within ${timeoutMs} ms`);
    await sleep(100);
  }
}

/** Images still waiting for their sizes (or being rendered), where the uploads went. */
export type RenderBacklog = () => Promise<number>;

/** Media's: the images still processing (its thumbnail queue, from its database) and the renders in its process, from its /metrics. */
export function mediaBacklog(stack: Stack, dispatcher: Agent): RenderBacklog {
  return async () => {
    const answer = await request(`${stack.adminUrl('media')}/metrics`, { dispatcher });
    const metrics = parseMetrics(await answer.body.text());
    return Math.max(metricValue(metrics, 'media_thumbnail_queue_depth'), metricValue(metrics, 'media_renders'));
  };
}

/** What the server inside orders tells: its renders, and orders' event loop delay since the last reset. */
export interface InsideOrdersStats {
  running: number;
  queued: number;
  done: number;
  failed: number;
  loopDelayMs: { p50: number; p99: number; max: number };
}

/** The server inside orders' stats; with `reset`, its event loop delay starts again from there. */
export async function insideOrdersStats(port: number, dispatcher: Agent, { reset = false } = {}): Promise<InsideOrdersStats> {
  const answer = await request(`http://127.0.0.1:${port}/stats${reset ? '?reset' : ''}`, { dispatcher });
  return (await answer.body.json()) as InsideOrdersStats;
}

/** The server inside orders: its renders running and queued. */
export function insideOrdersBacklog(port: number, dispatcher: Agent): RenderBacklog {
  return async () => {
    const { running, queued } = await insideOrdersStats(port, dispatcher);
    return running + queued;
  };
}

/** Waits until nothing is left to render, or `timeoutMs`: how long it took, and what was left. */
export async function drain(backlog: RenderBacklog, { timeoutMs }: { timeoutMs: number }): Promise<{ ms: number; left: number }> {
  const startedAt = performance.now();
  for (;;) {
    const left = await backlog();
    const ms = performance.now() - startedAt;
    if (left === 0 || ms > timeoutMs) return { ms, left };
    await sleep(250);
  }
}
