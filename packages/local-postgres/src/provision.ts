import pg from 'pg';
import { generatePassword, scramVerifier } from './scram.ts';

export interface ProvisionOptions {
  /** A superuser (or a role with CREATEROLE and CREATEDB) of the server. */
  adminUrl: string;
  /** One database and one role for each. */
  services: readonly string[];
  /** Put before each service's name to make its database's and role's name: `baton_` → `baton_orders`. */
  prefix?: string;
  /**
   * Where the services connect: a URL whose host, port and query (`sslmode`, `host` for a
   * socket) their URLs copy. The admin URL's by default; the local server's admin comes
   * through a socket, its services over TCP.
   */
  serviceUrlBase?: string | undefined;
  signal?: AbortSignal | undefined;
}

/** One service's database: its name, its role, the URL it connects with, and what was created now. */
export interface ServiceDatabase {
  service: string;
  database: string;
  role: string;
  /** `postgres://<role>:<password>@<host>:<port>/<database>`: a secret, passed to the service only. */
  url: string;
  created: { role: boolean; database: boolean };
}

const namePattern = /^[a-z_][a-z0-9_]{0,62}$/;

/**
 * Gives every service a database and a role of its own on one server: the role owns its
 * database and nothing else, and no other role may connect to it (CONNECT is revoked from
 * PUBLIC). What is missing is created; what exists is kept, with its data. Every call sets a
 * new random password on each role and returns it in the service's URL, so passwords live in
 * the runner's memory and its children's environment, never in a file. The server receives
 * only the SCRAM verifier.
 *
 * @example
 * const databases = await provisionDatabases({ adminUrl, services: ['users', 'orders'] });
 * // [{ service: 'users', database: 'baton_users', role: 'baton_users', url: 'postgres://baton_users:…@127.0.0.1:8432/baton_users', … }, …]
 */
export async function provisionDatabases({ adminUrl, services, prefix = 'baton_', serviceUrlBase = adminUrl, signal }: ProvisionOptions): Promise<ServiceDatabase[]> {
  const names = services.map((service) => {
    const name = `${prefix}${service}`;
    if (!namePattern.test(name)) throw new RangeError(`${name} is not a plain lower-case PostgreSQL name`);
    return { service, name };
  });
  return withAdmin(adminUrl, signal, async (admin) => {
    const wanted = names.map(({ name }) => name);
    const roles = new Set((await admin.query<{ name: string }>('select rolname as name from pg_roles where rolname = any($1)', [wanted])).rows.map((row) => row.name));
    const databases = new Set((await admin.query<{ name: string }>('select datname as name from pg_database where datname = any($1)', [wanted])).rows.map((row) => row.name));
    const result: ServiceDatabase[] = [];
    for (const { service, name } of names) {
      signal?.throwIfAborted();
      const id = admin.escapeIdentifier(name);
      const password = generatePassword();
      const verifier = admin.escapeLiteral(scramVerifier(password));
      // A new role has no attributes but LOGIN (NOSUPERUSER, NOCREATEDB, NOCREATEROLE… are the
      // defaults): it can sign in and own its database, nothing more. It must INHERIT (the
      // default): on PostgreSQL 15 to 17 the owner's right to create in schema public comes
      // through the pg_database_owner role, which a NOINHERIT role does not use.
      if (roles.has(name)) await admin.query(`alter role ${id} with login inherit password ${verifier}`);
      else await admin.query(`create role ${id} with login password ${verifier}`);
      // A role that existed already (on a server of yours) may have been given more; a service
      // gets a role that can sign in and own its database, or none.
      const { rows: [powers] } = await admin.query<{ extra: string[] }>(
        `select array_remove(array[case when rolsuper then 'SUPERUSER' end, case when rolcreatedb then 'CREATEDB' end,
           case when rolcreaterole then 'CREATEROLE' end, case when rolreplication then 'REPLICATION' end,
           case when rolbypassrls then 'BYPASSRLS' end], null) as extra from pg_roles where rolname = $1`, [name]);
      if (powers !== undefined && powers.extra.length > 0) {
        throw new Error(`the role ${name} can do more than a service should (${powers.extra.join(', ')}): remove that (alter role ${name} no${powers.extra[0]?.toLowerCase()} …) or choose another BATON_DATABASE_PREFIX`);
      }
      if (databases.has(name)) await admin.query(`alter database ${id} owner to ${id}`);
      else await admin.query(`create database ${id} owner ${id} encoding 'UTF8'`);
      await admin.query(`revoke all on database ${id} from public`);
      result.push({
        service,
        database: name,
        role: name,
        url: serviceUrl(serviceUrlBase, name, password),
        created: { role: !roles.has(name), database: !databases.has(name) },
      });
    }
    return result;
  });
}

/** Drops the databases and roles `provisionDatabases` made (for tests, which start many shops on one server). */
export async function dropDatabases({ adminUrl, services, prefix = 'baton_' }: Pick<ProvisionOptions, 'adminUrl' | 'services' | 'prefix'>): Promise<void> {
  await withAdmin(adminUrl, undefined, async (admin) => {
    for (const service of services) {
      const id = admin.escapeIdentifier(`${prefix}${service}`);
      await admin.query(`drop database if exists ${id} with (force)`);
      await admin.query(`drop role if exists ${id}`);
    }
  });
}

function serviceUrl(base: string, name: string, password: string): string {
  const url = new URL(base);
  url.username = name;
  url.password = password;
  url.pathname = `/${name}`;
  // node-postgres lets these in the query override the ones above: the admin's must not come along.
  for (const credential of ['user', 'password', 'passfile', 'dbname', 'database']) url.searchParams.delete(credential);
  return url.toString();
}

async function withAdmin<T>(adminUrl: string, signal: AbortSignal | undefined, work: (admin: pg.Client) => Promise<T>): Promise<T> {
  signal?.throwIfAborted();
  const admin = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 5_000, application_name: 'baton-provision' });
  // A connection that breaks while idle emits here; without a listener the process would crash.
  admin.on('error', () => {});
  await admin.connect();
  try {
    return await work(admin);
  } finally {
    await admin.end().catch(() => {});
  }
}
