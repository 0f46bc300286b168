// One real PostgreSQL on this machine, from an npm package: `npm start`'s database server, and
// the tests' (one server a test run, a database a test). See ../README.md.
export { findPostgresBinaries, type PostgresBinaries } from './binaries.ts';
export { prepareServer, type PrepareServerOptions, type PreparedServer } from './prepare-server.ts';
export { startLocalPostgres, type LocalPostgres, type StartLocalPostgresOptions } from './start-postgres.ts';
export { guardAgainstOrphaning, type OrphanGuard, type OrphanGuardOptions } from './orphan-guard.ts';
export { isPostgresReady, waitForPostgres } from './ready.ts';
export { provisionDatabases, dropDatabases, type ProvisionOptions, type ServiceDatabase } from './provision.ts';
export { inspectLeftoverServer, isAlive, type LeftoverServer } from './stale-server.ts';
export { scramVerifier, generatePassword } from './scram.ts';
