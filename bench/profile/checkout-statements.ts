// The statements each side of checkout-vs-bare sends PostgreSQL per order + cancel pair (issue
// 18): Baton's shop and the bare chain, one after the other, each on a PostgreSQL of its own with
// pg_stat_statements loaded; 16 buyers on the hot product for STATEMENTS_SECONDS (default 10)
// after a warm-up, the counts reset in between. Prints, per database (a service), the statements
// per pair (`begin` and `commit` included: each is a round trip) and the most frequent ones.
// Every round trip to the database is a socket write and a wake-up on both ends, the top of the
// checkout's CPU profile (bench/README.md), so this is where the two sides differ first.
//
//   node bench/profile/checkout-statements.ts
//   STATEMENTS_IDLE=1 node bench/profile/checkout-statements.ts   # with no load: statements a second
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { Agent } from 'undici';
import { runPairs } from '../scenarios/checkout-vs-bare/pairs.ts';
import { startBare, startBaton, type Side } from '../scenarios/checkout-vs-bare/sides.ts';

const seconds = Number(process.env.STATEMENTS_SECONDS ?? 10);
const idle = process.env.STATEMENTS_IDLE === '1';
const top = Number(process.env.STATEMENTS_TOP ?? 12);
const settings = { shared_preload_libraries: 'pg_stat_statements', 'pg_stat_statements.track': 'all', 'pg_stat_statements.track_utility': 'on' };
const hot = () => 'FILTER-PAPER-100';

async function onAdmin<T>(side: Side, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: side.adminUrl });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

type Row = { db: string; calls: string; query: string };

async function measure(side: Side, dispatcher: Agent): Promise<void> {
  await onAdmin(side, (client) => client.query('create extension if not exists pg_stat_statements'));
  await runPairs(side, dispatcher, { concurrency: 16, durationMs: 3_000, skuOf: hot });
  await onAdmin(side, (client) => client.query('select pg_stat_statements_reset()'));
  // Idle: what the shop sends with nothing to do, a second (the relays', reconcilers' and feed readers' polls).
  const round = idle
    ? await sleep(seconds * 1000).then(() => ({ pairs: seconds, seconds, failures: 0 }))
    : await runPairs(side, dispatcher, { concurrency: 16, durationMs: seconds * 1000, skuOf: hot });
  const { rows } = await onAdmin(side, (client) => client.query<Row>(
    `select d.datname as db, s.calls::text as calls, regexp_replace(s.query, '\\s+', ' ', 'g') as query
     from pg_stat_statements s join pg_database d on d.oid = s.dbid
     where s.query not like '%pg_stat_statements%'
     order by s.calls desc`));
  const perPair = (n: number) => (n / Math.max(round.pairs, 1)).toFixed(2);
  const per = idle ? 'second, idle' : 'pair';
  console.log(idle ? `\n## ${side.name}: idle for ${seconds} s\n` : `\n## ${side.name}: ${round.pairs} pairs in ${round.seconds.toFixed(1)} s, ${round.failures} failed\n`);
  const byDb = new Map<string, Row[]>();
  for (const row of rows) byDb.set(row.db, [...(byDb.get(row.db) ?? []), row]);
  const total = rows.reduce((sum, row) => sum + Number(row.calls), 0);
  console.log(`statements per ${per}, every database: ${perPair(total)}`);
  for (const [db, list] of [...byDb].sort((a, b) => a[0].localeCompare(b[0]))) {
    const calls = list.reduce((sum, row) => sum + Number(row.calls), 0);
    console.log(`\n### ${db}: ${perPair(calls)} a ${per}\n`);
    for (const row of list.slice(0, top)) console.log(`  ${perPair(Number(row.calls)).padStart(6)}  ${row.query.slice(0, 150)}`);
  }
}

const dispatcher = new Agent({ connections: 64 });
try {
  for (const start of [() => startBaton(dispatcher, {}, { postgresSettings: settings }), () => startBare({ postgresSettings: settings })]) {
    const side = await start();
    try {
      await measure(side, dispatcher);
    } finally {
      await side.stop();
    }
  }
} finally {
  await dispatcher.close();
}
