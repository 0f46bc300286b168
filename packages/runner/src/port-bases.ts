import { closeSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { postgresPortOffset } from './database.ts';
import { adminPortOf, grpcPortOf, portOf, serviceNames } from './services.ts';
import { consolePortOffset } from './local-console.ts';

/**
 * Names a folder shared by every process of one test run (`npm test`'s global setup makes it).
 * Set, `randomPortBase` takes each base it gives by creating a file named after it there, so
 * two stacks of the run never get the same one.
 */
export const portBasesDirVariable = 'BATON_PORT_BASES_DIR';

/** Every port a stack on `portBase` may listen on: the services' three each, its PostgreSQL, the trace view. */
export function stackPortsOf(portBase: number): number[] {
  return [
    ...serviceNames.flatMap((name) => [portOf(name, portBase), grpcPortOf(name, portBase), adminPortOf(name, portBase)]),
    portBase + postgresPortOffset,
    portBase + consolePortOffset,
  ].filter((port): port is number => port !== undefined);
}

// Away from the default 8080, so a test runs beside a stack a developer is using, and below
// Linux's ephemeral range (32768 and up), where outgoing connections pick their local ports
// and could take one of a stack's.
const lowestPort = 20_000;
const ephemeralStart = 32_768;
// Ports in that range that servers a developer's machine runs listen on: RabbitMQ's
// inter-node port (25672; a stack's slot 6, media, once met it and could not start).
const serversPorts = new Set([25_672]);

/**
 * The bases whose stacks share no port with each other, lowest first: each base is kept unless
 * one of its ports is a port of a base kept before it. Random bases used to overlap: two stacks
 * of a test run, one base 1000 above the other, shared ports (gRPC of one, HTTP of the other);
 * the start's check missed it when a port was free only because a test had killed its process,
 * and the other stack's service answered in the killed one's place (seen as a 404 from "users").
 */
export const portBases: readonly number[] = (() => {
  const taken = new Set<number>();
  const bases: number[] = [];
  for (let base = lowestPort; ; base++) {
    const ports = stackPortsOf(base);
    if (Math.max(...ports) >= ephemeralStart) return bases;
    if (ports.some((port) => taken.has(port) || serversPorts.has(port))) continue;
    for (const port of ports) taken.add(port);
    bases.push(base);
  }
})();

/**
 * A port base for a test's own stack, from `portBases`. Under `npm test` (`BATON_PORT_BASES_DIR`
 * set) it is one no other stack of the run was given, for as long as the run lasts; outside it,
 * a random one (the stack's start still checks its ports are free).
 */
export function randomPortBase(): number {
  const dir = process.env[portBasesDirVariable];
  const order = shuffled(portBases);
  if (!dir) return order[0]!;
  for (const base of order) {
    try {
      // 'wx' fails if the file exists: whichever process creates it first has the base.
      closeSync(openSync(join(dir, String(base)), 'wx'));
      return base;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }
  throw new Error(`every one of the ${portBases.length} port bases of this test run is taken (${dir})`);
}

function shuffled<T>(items: readonly T[]): T[] {
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [copy[i], copy[j]] = [copy[j]!, copy[i]!];
  }
  return copy;
}
