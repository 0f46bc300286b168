import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Code as ConnectCode } from '@connectrpc/connect';
import { Code } from './index.ts';
import { codeFromGrpcStatus, grpcStatusByCode, grpcStatusOf } from './grpc-status.ts';

void describe('gRPC statuses', () => {
  void test('one to one: every code has its own status, and reading it back gives the code', () => {
    const codes = Object.values(Code);
    const statuses = codes.map(grpcStatusOf);
    assert.equal(new Set(statuses).size, codes.length);
    for (const code of codes) assert.equal(codeFromGrpcStatus(grpcStatusByCode[code]), code);
  });

  void test('the numbers are gRPC\'s, the same as Connect\'s Code by name', () => {
    // Connect spells its codes in camel case (InvalidArgument) where Baton uses snake case.
    const camel = (code: string) => code.replace(/(^|_)([a-z])/g, (_m, _u: string, c: string) => c.toUpperCase());
    for (const code of Object.values(Code)) {
      assert.equal(grpcStatusOf(code), (ConnectCode as unknown as Record<string, number>)[camel(code)], code);
    }
    assert.equal(grpcStatusOf(Code.DeadlineExceeded), 4);
    assert.equal(grpcStatusOf(Code.NotFound), 5);
    assert.equal(grpcStatusOf(Code.Unavailable), 14);
  });

  void test('OK and statuses outside the standard set read as unknown', () => {
    assert.equal(codeFromGrpcStatus(0), Code.Unknown);
    assert.equal(codeFromGrpcStatus(17), Code.Unknown);
    assert.equal(codeFromGrpcStatus(-1), Code.Unknown);
  });
});
