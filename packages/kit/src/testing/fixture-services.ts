import { fileURLToPath } from 'node:url';

// Service processes for the kit's tests that need a real process (a signal, a lost database):
// each is run as `node <path>` with the variables a service reads, DATABASE_URL included.

/** The migrations of the fixture services (one table, `fixture_items`); any test service may use them. */
export const fixtureMigrationsDir = fileURLToPath(new URL('./fixtures/migrations/', import.meta.url));

/** `GET /items/count` is one statement, `POST /items` a transaction of three with sleeps between them. */
export const databaseServiceFixture = fileURLToPath(new URL('./fixtures/database-service.ts', import.meta.url));

/** `GET /slow?ms=` answers after `ms` milliseconds; `GET /inflight` says how many are being served. */
export const slowServiceFixture = fileURLToPath(new URL('./fixtures/slow-service.ts', import.meta.url));
