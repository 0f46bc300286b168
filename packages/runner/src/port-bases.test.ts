import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { portBases, portBasesDirVariable, randomPortBase, stackPortsOf } from './port-bases.ts';

test('no two port bases share a port, and every port sits between 20000 and the ephemeral range', () => {
  const owner = new Map<number, number>();
  for (const base of portBases) {
    for (const port of stackPortsOf(base)) {
      assert.ok(port >= 20_000 && port < 32_768, `port ${port} of base ${base}`);
      assert.equal(owner.get(port), undefined, `port ${port} of base ${base} is also base ${owner.get(port)}'s`);
      owner.set(port, base);
    }
  }
  assert.ok(portBases.length > 300, `${portBases.length} bases`);
  assert.ok(!portBases.some((base) => stackPortsOf(base).includes(25_672)), 'no stack meets RabbitMQ\'s inter-node port');
});

test('within a test run, each base is given once; when all are given, the next call says so', () => {
  const dir = mkdtempSync(join(tmpdir(), 'baton-port-bases-test-'));
  const before = process.env[portBasesDirVariable];
  process.env[portBasesDirVariable] = dir;
  try {
    const given = Array.from({ length: portBases.length }, () => randomPortBase());
    assert.deepEqual([...given].sort((a, b) => a - b), [...portBases]);
    assert.throws(() => randomPortBase(), /every one of the \d+ port bases of this test run is taken/);
  } finally {
    if (before === undefined) delete process.env[portBasesDirVariable];
    else process.env[portBasesDirVariable] = before;
    rmSync(dir, { recursive: true, force: true });
  }
});
