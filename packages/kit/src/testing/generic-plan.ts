import { fileURLToPath } from 'node:url';
import { migrate, openPostgres, type Database, type Queryable } from '../db/index.ts';
import { addCleanup } from './cleanup.ts';
import { createTestDatabase, type TestHooks } from './postgres.ts';

/** One node of a plan, as `explain (format json)` gives it. */
export interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  Plans?: PlanNode[];
}

/** How a plan reads a table: `Index Scan orders_pkey`, `Seq Scan`, `Bitmap Index Scan orders_pkey`. */
export interface TableRead {
  relation: string;
  how: string;
}

/**
 * How the generic plan of a statement with parameters reads each table, on the database as it is
 * now: the plan PostgreSQL keeps for a prepared statement (every statement of a kit pool is one,
 * `db/named-statements.ts`) once it finds it no worse than the custom plans of its first five
 * runs. Made on a new service's empty tables, that plan is not steered by any statistics, so a
 * test holds a hot statement to the index it must use there (PostgreSQL 16 and later).
 *
 * @example
 * assert.deepEqual(await genericPlanReads(db, 'select * from orders where id = $1'), [{ relation: 'orders', how: 'Index Scan orders_pkey' }]);
 */
export async function genericPlanReads(db: Queryable, statement: string): Promise<TableRead[]> {
  const { rows } = await db.query<{ 'QUERY PLAN': Array<{ Plan: PlanNode }> }>(`explain (generic_plan, format json) ${statement}`);
  const root = rows[0]?.['QUERY PLAN'][0]?.Plan;
  if (root === undefined) throw new Error('explain gave no plan');
  // A bitmap index scan names its index, not its table: it reads for the bitmap heap scan above it.
  const reads = (node: PlanNode, above: string | undefined): TableRead[] => {
    const relation = node['Relation Name'] ?? (node['Index Name'] === undefined ? undefined : above);
    const own = relation !== undefined && node['Node Type'] !== 'ModifyTable' ? [{ relation, how: `${node['Node Type']} ${node['Index Name'] ?? ''}`.trim() }] : [];
    return [...own, ...(node.Plans ?? []).flatMap((child) => reads(child, node['Relation Name'] ?? above))];
  };
  return reads(root, undefined);
}

/**
 * A new database with a service's migrations and nothing else, as a new shop starts: where its
 * generic plans are made. Undefined when this run has no PostgreSQL (the test then passes as
 * skipped, as `createTestDatabase` says); closed after the test.
 *
 * @example
 * const database = await emptyServiceDatabase(t, new URL('../migrations/', import.meta.url));
 * if (database === undefined) return;
 */
export async function emptyServiceDatabase(t: TestHooks, migrations: URL): Promise<Database | undefined> {
  const url = await createTestDatabase(t);
  if (url === undefined) return undefined;
  const database = openPostgres({ url, applicationName: 'generic-plan-test' });
  addCleanup(t, () => database.close());
  await migrate(database, fileURLToPath(migrations));
  return database;
}
