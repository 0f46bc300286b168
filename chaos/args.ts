import { parseArgs } from 'node:util';
import { hostScenarios, scenarios, type HostScenario, type Scenario } from '@baton/chaos';

export interface ChaosArgs {
  /** The scenarios to run, in the catalogue's order; all of them by default. */
  scenarios: readonly Scenario[];
  /** The multi-host proof's scenarios asked for (naming one runs the proof, which reports them all); all by default. */
  hosts: readonly HostScenario[];
  /** CI's run: every scenario with short windows (2 s before, 4 s of fault, 6 s after). */
  short: boolean;
  /** Only list the scenarios. */
  list: boolean;
}

export type ChaosArgsResult = { ok: true; args: ChaosArgs } | { ok: false; problem: string };

/**
 * `npm run chaos -- [--scenario NAME[,NAME]]... [--short] [--list]`, read once; an unknown
 * option or scenario is a problem to print, never a run of something else.
 */
export function parseChaosArgs(argv: readonly string[]): ChaosArgsResult {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      options: { scenario: { type: 'string', multiple: true }, short: { type: 'boolean', default: false }, list: { type: 'boolean', default: false } },
      strict: true,
      allowPositionals: false,
    });
  } catch (error) {
    return { ok: false, problem: (error as Error).message };
  }
  const named = (parsed.values.scenario ?? []).flatMap((value) => value.split(',')).map((name) => name.trim()).filter((name) => name.length > 0);
  const known = [...scenarios, ...hostScenarios].map((s) => s.name);
  const unknown = named.filter((name) => !known.includes(name));
  if (unknown.length > 0) return { ok: false, problem: `no scenario ${unknown.join(', ')}; known: ${known.join(', ')}` };
  return {
    ok: true,
    args: {
      scenarios: named.length === 0 ? scenarios : scenarios.filter((s) => named.includes(s.name)),
      hosts: named.length === 0 ? hostScenarios : hostScenarios.filter((s) => named.includes(s.name)),
      short: parsed.values.short === true,
      list: parsed.values.list === true,
    },
  };
}
