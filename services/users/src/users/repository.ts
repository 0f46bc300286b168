import type { Role } from '@baton/kit/auth';
import type { Queryable, QueryOptions } from '@baton/kit/db';
import { Code, KitError } from '@baton/kit/errors';
import type { UserRow } from './user.ts';

const columns = 'id, email, name, password_hash, tokens_revoked_before, roles';

/** PostgreSQL's unique_violation, as node-postgres reports it. */
function isUniqueViolation(error: unknown, constraint: string): boolean {
  const e = error as { code?: unknown; constraint?: unknown } | null;
  return e?.code === '23505' && e.constraint === constraint;
}

/**
 * Adds an account, or throws `already_exists` naming the email. The unique constraint decides,
 * not a look-up first: of two registrations with one email racing each other, exactly one
 * inserts, whatever the timing. `email` must already be normalised (lower case).
 */
export async function insertUser(db: Queryable, user: { email: string; name: string; passwordHash: string; roles: readonly Role[] }, options: QueryOptions): Promise<UserRow> {
  try {
    const { rows } = await db.query<UserRow>(
      `insert into users (email, name, password_hash, roles) values ($1, $2, $3, $4) returning ${columns}`,
      [user.email, user.name, user.passwordHash, user.roles], options);
    const row = rows[0];
    if (row === undefined) throw new Error('insert into users returned no row');
    return row;
  } catch (error) {
    if (isUniqueViolation(error, 'users_email_key')) {
      throw new KitError(Code.AlreadyExists, 'an account with this email already exists', {
        reason: 'email_taken',
        fields: [{ field: 'body.email', message: 'already registered' }],
      });
    }
    throw error;
  }
}

export async function findUserById(db: Queryable, id: string, options: QueryOptions): Promise<UserRow | undefined> {
  const { rows } = await db.query<UserRow>(`select ${columns} from users where id = $1`, [id], options);
  return rows[0];
}

/** `email` must already be normalised (lower case), as stored. */
export async function findUserByEmail(db: Queryable, email: string, options: QueryOptions): Promise<UserRow | undefined> {
  const { rows } = await db.query<UserRow>(`select ${columns} from users where email = $1`, [email], options);
  return rows[0];
}

/**
 * Replaces a hash made with older parameters. Only if it is still the one that was checked:
 * a password changed in between is not overwritten with the old password's new hash.
 */
export async function replacePasswordHash(db: Queryable, id: string, { from, to }: { from: string; to: string }, options: QueryOptions): Promise<void> {
  await db.query('update users set password_hash = $3 where id = $1 and password_hash = $2', [id, from, to], options);
}
