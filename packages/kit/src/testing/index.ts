/**
 * Helpers for Baton's tests: a fresh PostgreSQL database per test or per suite (on the test
 * run's own server, see postgres.ts), temp dirs, captured or silent loggers, a free port and a
 * Prometheus text parser. Everything a helper creates is removed after the test, last created
 * first (see `addCleanup`).
 */
export { createTestDatabase, testPostgresAdminUrl, type TestDatabaseOptions, type TestHooks } from './postgres.ts';
export { createSuiteDatabase } from './suite-database.ts';
export { createTempDir } from './temp-dir.ts';
export { useTestNats, useTestRabbit, type TestBroker } from './brokers.ts';
export { startNatsServer, type PrivateNatsServer } from './nats-server.ts';
export { addCleanup, createSuiteScope, type CleanupScope } from './cleanup.ts';
export { createCapturedLogger, createSilentLogger, type CapturedLogger, type LogLine } from './logger.ts';
export { findFreePort } from './free-port.ts';
export { captureOutput, type ChildOutput } from './child-output.ts';
export { hasProcFs, isRunning, processTree, type TreeProcess } from './process-tree.ts';
export { parseMetrics, metricValue, type MetricFamily, type MetricSample } from './metrics.ts';
export { createJsonClient, type Answer } from './json-client.ts';
