/**
 * Helpers for Baton's tests: a fresh PostgreSQL database per test or per suite (on the test
 * run's own server, see postgres.ts), temp dirs, captured or silent loggers, a free port, a
 * Prometheus text parser, a fake clock, large bodies made and hashed as they stream (with the
 * memory a transfer keeps alive), and the peers the kit's own tests talk to (an HTTP
 * upstream, Connect and @grpc/grpc-js servers, service processes, a test event domain).
 * Everything a helper creates is removed after the test, last created first (see `addCleanup`).
 *
 * Only tests, bench/ and test support may import this entry (eslint.config.js checks it).
 */
export { createTestDatabase, testPostgresAdminUrl, type TestDatabaseOptions, type TestHooks } from './postgres.ts';
export { createSuiteDatabase } from './suite-database.ts';
export { emptyServiceDatabase, genericPlanReads, type TableRead } from './generic-plan.ts';
export { startPostgresProxy, type PostgresProxy } from './postgres-proxy.ts';
export { createTempDir } from './temp-dir.ts';
export { useTestNats, useTestRabbit, type TestBroker } from './brokers.ts';
export { startNatsServer, type PrivateNatsServer } from './nats-server.ts';
export { addCleanup, createSuiteScope, type CleanupScope } from './cleanup.ts';
export { createCapturedLogger, createSilentLogger, type CapturedLogger, type LogLine } from './logger.ts';
export { findFreePort, isListening } from './free-port.ts';
export { captureOutput, type ChildOutput } from './child-output.ts';
export { hasProcFs, isRunning, nicenessOf, processTree, type TreeProcess } from './process-tree.ts';
export { parseMetrics, metricValue, type MetricFamily, type MetricSample } from './metrics.ts';
export { createJsonClient, type Answer, type JsonClientOptions } from './json-client.ts';
export { sendRaw, type RawAnswer, type RawRequest } from './raw-request.ts';
export { createFakeClock, type FakeClock } from './fake-clock.ts';
export { generateBytes, hashingSink, liveBytesAfterGc, peakSampler, type GeneratedBytes, type HashingSink } from './byte-streams.ts';
export { delayUnlessClosed, eventually, refusedUrl, sendJson, sendKitError, startUpstream, type Upstream, type UpstreamHandler } from './upstream-fixture.ts';
export { startFixtureServer } from './rpc-fixture.ts';
export { grpcJsUsersClient, startGrpcJsUsersServer, type GetUserCall, type GetUserHandler, type WireUser } from './grpc-js-fixture.ts';
export { databaseServiceFixture, fixtureMigrationsDir, slowServiceFixture } from './fixture-services.ts';
export { spawnFixtureService, type FixtureServiceProcess, type ProcessExit } from './service-process.ts';
export { itemAdded, itemRemoved, writeEvents } from './shelf-events.ts';
export { batonServiceNames, createTestIdentity, serviceTokenInterceptor, testIdentity, type MintOptions, type TestIdentity, type TestKeyPair } from './service-identity.ts';
