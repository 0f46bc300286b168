import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { migrate, openPostgres } from '@baton/kit/db';
import { addCleanup, createTestDatabase } from '@baton/kit/testing';
import { findOrderMarkingCancelStatement } from '../src/orders/repository.ts';

// Every statement of a kit pool is prepared, and PostgreSQL keeps a generic plan for it once that
// plan looks no worse than the custom ones: on a new shop's empty tables, any index looks as good
// as another. The plan kept must not depend on that luck.

interface PlanNode {
  'Node Type': string;
  'Index Name'?: string;
  'Relation Name'?: string;
  Plans?: PlanNode[];
}

function nodesOf(node: PlanNode): PlanNode[] {
  return [node, ...(node.Plans ?? []).flatMap(nodesOf)];
}

test('a cancel finds its order by the primary key in the generic plan made on empty tables, never by the user\'s orders', async (t) => {
  const url = await createTestDatabase(t);
  if (url === undefined) return;
  const database = openPostgres({ url, applicationName: 'orders-cancel-plan-test' });
  addCleanup(t, () => database.close());
  await migrate(database, fileURLToPath(new URL('../migrations/', import.meta.url)));

  const { rows } = await database.query<{ 'QUERY PLAN': Array<{ Plan: PlanNode }> }>(`explain (generic_plan, format json) ${findOrderMarkingCancelStatement}`);
  const nodes = nodesOf(rows[0]?.['QUERY PLAN'][0]?.Plan as PlanNode);
  const update = nodes.find((node) => node['Node Type'] === 'ModifyTable');
  assert.ok(update !== undefined, 'the statement marks the order');
  const scans = nodesOf(update).filter((node) => node['Relation Name'] === 'orders' && node !== update);
  assert.deepEqual(scans.map((node) => `${node['Node Type']} ${node['Index Name'] ?? ''}`.trim()), ['Index Scan orders_pkey']);
  assert.equal(nodes.some((node) => node['Index Name'] === 'orders_by_user'), false, 'no part of the statement reads a user\'s orders');
});
