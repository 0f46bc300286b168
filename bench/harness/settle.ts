import { setTimeout as sleep } from 'node:timers/promises';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

// Node hides `gc()` unless started with --expose-gc; `node bench/run.ts` is the documented command,
// so the flag is set here and the function taken from a fresh context, where V8 then defines it.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/**
 * Called right before a variant's clock starts: waits a moment, so that the servers finish what
 * the variant before left them (NATS writing its stream, PostgreSQL its WAL), then collects
 * garbage, so that no variant pays for the garbage of the one before it or of its own setup. On
 * two cores either, landing inside a run of a few hundred milliseconds, moved a ratio by ten
 * points or more.
 */
export async function settle(pauseMs = 250): Promise<void> {
  await sleep(pauseMs);
  gc();
}
