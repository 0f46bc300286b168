import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';

/**
 * The SCRAM-SHA-256 verifier PostgreSQL stores for a password (RFC 5802, RFC 7677), in the form
 * `ALTER ROLE … PASSWORD` accepts. Sending the verifier instead of the password means the
 * password itself never reaches the server, so no statement log or error message can show it.
 *
 * Written by hand because node-postgres computes SCRAM only inside its sign-in exchange; this is
 * the same arithmetic (PostgreSQL's `pg_be_scram_build_secret`), checked by signing in with it.
 * The password must be ASCII without control characters (SASLprep leaves those as they are).
 */
export function scramVerifier(password: string, { iterations = 4_096, salt = randomBytes(16) }: { iterations?: number; salt?: Buffer } = {}): string {
  if (!/^[\x21-\x7e]+$/.test(password)) throw new RangeError('a generated password is printable ASCII');
  const salted = pbkdf2Sync(password, salt, iterations, 32, 'sha256');
  const clientKey = createHmac('sha256', salted).update('Client Key').digest();
  const storedKey = createHash('sha256').update(clientKey).digest();
  const serverKey = createHmac('sha256', salted).update('Server Key').digest();
  return `SCRAM-SHA-256$${iterations}:${salt.toString('base64')}$${storedKey.toString('base64')}:${serverKey.toString('base64')}`;
}

/** A new random password: 32 characters of base64url, 192 bits. */
export function generatePassword(): string {
  return randomBytes(24).toString('base64url');
}
