import type { Queryable } from '../db/index.ts';

/** One node of a plan, as `explain (format json)` gives it. */
export interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  Plans?: PlanNode[];
}

/** How a plan reads a table: `Index Scan orders_pkey`, `Seq Scan`. */
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
  const nodes = (node: PlanNode): PlanNode[] => [node, ...(node.Plans ?? []).flatMap(nodes)];
  return nodes(root)
    .filter((node) => node['Relation Name'] !== undefined && node['Node Type'] !== 'ModifyTable')
    .map((node) => ({ relation: node['Relation Name'] as string, how: `${node['Node Type']} ${node['Index Name'] ?? ''}`.trim() }));
}
