export type { Database, PoolStats, Queryable, QueryOptions, QueryResult, Row, Transaction } from './database.ts';
export { openPostgres, type PostgresOptions } from './postgres.ts';
export { migrate, type MigrationResult } from './migrate.ts';
