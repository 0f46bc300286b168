// The statements each side of checkout-vs-bare sends PostgreSQL per order + cancel pair (issue
// 18): Baton's shop and the bare chain, one after the other, each on a PostgreSQL of its own with
// pg_stat_statements loaded; 16 buyers on the hot product (STATEMENTS_SPREAD=1: a product each)
// for STATEMENTS_SECONDS (default 10)
// after a warm-up, the counts reset in between. Prints, per database (a service), the statements
// per pair (`begin` and `commit` included: each is a round trip) and the most frequent ones.
// Every round trip to the database is a socket write and a wake-up on both ends, the top of the
// checkout's CPU profile (bench/README.md), so this is where the two sides differ first.
//
// Beside each statement: the buffers it reads a call (shared hits, as pg_stat_statements counts
// them) and its execution time a pair, which includes waits for row locks; after the statements,
// each database's most read indexes since it was made, with the entries read a scan
// (pg_stat_user_indexes). A statement or an index far above the rest is a plan reading more than
// it needs (bench/README.md, eleventh session: a cancel read every order of its user through the
// wrong index).
//
//   node bench/profile/checkout-statements.ts
//   STATEMENTS_SPREAD=1 node bench/profile/checkout-statements.ts # a product per buyer, as checkout-vs-bare's spread loads
//   STATEMENTS_IDLE=1 node bench/profile/checkout-statements.ts   # with no load: statements a second
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { Agent } from 'undici';
import { hotSku, spreadSkus } from '../scenarios/checkout-vs-bare.ts';
import { runPairs } from '../scenarios/checkout-vs-bare/pairs.ts';
import { startBare, startBaton, type Side } from '../scenarios/checkout-vs-bare/sides.ts';

const seconds = Number(process.env.STATEMENTS_SECONDS ?? 10);
const idle = process.env.STATEMENTS_IDLE === '1';
const top = Number(process.env.STATEMENTS_TOP ?? 12);
const settings = { shared_preload_libraries: 'pg_stat_statements', 'pg_stat_statements.track': 'all', 'pg_stat_statements.track_utility': 'on' };
const skuOf = process.env.STATEMENTS_SPREAD === '1' ? (buyer: number) => spreadSkus[buyer % spreadSkus.length] as string : () => hotSku;

async function onAdmin<T>(side: Side, work: (client: pg.Client) => Promise<T>, database?: string): Promise<T> {
  const url = new URL(side.adminUrl);
  if (database !== undefined) url.pathname = `/${database}`;
  const client = new pg.Client({ connectionString: url.toString() });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

type Row = { db: string; calls: string; blocks: string; exec_ms: string; query: string };
type IndexRow = { relname: string; indexrelname: string; scans: string; entries: string };

async function measure(side: Side, dispatcher: Agent): Promise<void> {
  await onAdmin(side, (client) => client.query('create extension if not exists pg_stat_statements'));
  await runPairs(side, dispatcher, { concurrency: 16, durationMs: 3_000, skuOf });
  await onAdmin(side, (client) => client.query('select pg_stat_statements_reset()'));
  // Idle: what the shop sends with nothing to do, a second (the relays', reconcilers' and feed readers' polls).
  const round = idle
    ? await sleep(seconds * 1000).then(() => ({ pairs: seconds, seconds, failures: 0 }))
    : await runPairs(side, dispatcher, { concurrency: 16, durationMs: seconds * 1000, skuOf });
  const { rows } = await onAdmin(side, (client) => client.query<Row>(
    `select d.datname as db, s.calls::text as calls, s.shared_blks_hit::text as blocks, s.total_exec_time::text as exec_ms,
            regexp_replace(s.query, '\\s+', ' ', 'g') as query
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
    console.log(`  ${'calls'.padStart(6)}  ${'blocks a call'.padStart(13)}  ${'µs a ' + (idle ? 'second' : 'pair')}`);
    for (const row of list.slice(0, top)) {
      const blocksACall = (Number(row.blocks) / Math.max(Number(row.calls), 1)).toFixed(1);
      const execUs = perPair(Number(row.exec_ms) * 1000);
      console.log(`  ${perPair(Number(row.calls)).padStart(6)}  ${blocksACall.padStart(13)}  ${execUs.padStart(9)}  ${row.query.slice(0, 120)}`);
    }
    const indexes = await onAdmin(side, (client) => client.query<IndexRow>(
      `select relname, indexrelname, idx_scan::text as scans, idx_tup_read::text as entries
       from pg_stat_user_indexes where idx_scan > 0 order by idx_tup_read desc limit 4`), db);
    // Counted since the database was made, the warm-up included: scans in all, entries a scan.
    console.log(`\n  most read indexes: ${indexes.rows.map((row) => `${row.indexrelname} (${row.scans} scans, ${(Number(row.entries) / Math.max(Number(row.scans), 1)).toFixed(1)} entries a scan)`).join('; ')}`);
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
