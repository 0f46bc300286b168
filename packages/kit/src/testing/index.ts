/**
 * Helpers for Baton's tests: a fresh PostgreSQL database per test (skipped when no server
 * answers, required under CI=true) or per suite, temp dirs, captured or silent loggers, a free port and a
 * Prometheus text parser. Everything a helper creates is removed after the test, last created
 * first (see `addCleanup`).
 */
export { createTestDatabase, defaultTestPostgresUrl, type TestDatabaseOptions, type TestHooks } from './postgres.ts';
export { createSuiteDatabase } from './suite-database.ts';
export { createTempDir } from './temp-dir.ts';
export { defaultTestAmqpUrl, defaultTestNatsUrl, useTestNats, useTestRabbit, type TestBroker } from './brokers.ts';
export { startNatsServer, type PrivateNatsServer } from './nats-server.ts';
export { addCleanup, createSuiteScope, type CleanupScope } from './cleanup.ts';
export { createCapturedLogger, createSilentLogger, type CapturedLogger, type LogLine } from './logger.ts';
export { findFreePort } from './free-port.ts';
export { parseMetrics, metricValue, type MetricFamily, type MetricSample } from './metrics.ts';
export { createJsonClient, type Answer, type SendOptions } from './json-client.ts';
