import { rolesOf, type Role } from '@baton/kit/auth';

/** A users row as the database returns it. The password hash never leaves this service. */
export interface UserRow {
  id: string;
  email: string;
  name: string;
  password_hash: string;
  /** Every token of this user issued before this is revoked (a password change, a sign-out everywhere). */
  tokens_revoked_before: Date | null;
  /** What the account may do beyond shopping; the table allows only known roles. */
  roles: string[];
}

/** What callers see of a user. */
export interface UserView {
  id: string;
  email: string;
  name: string;
  roles: Role[];
}

export function userView(row: UserRow): UserView {
  return { id: row.id, email: row.email, name: row.name, roles: rolesOf(row.roles) };
}
