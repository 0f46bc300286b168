import { calculateJwkThumbprint, exportJWK, generateKeyPair, type JWK } from 'jose';
import { accessTokenAlgorithm } from '@baton/kit/auth';
import type { Database, Queryable, QueryOptions } from '@baton/kit/db';
import { KeySealingError, openPrivateJwk, sealPrivateJwk } from './key-sealing.ts';

/** The public half of a signing key, as published: exactly these members. */
export interface PublicSigningJwk {
  kty: 'OKP';
  crv: 'Ed25519';
  x: string;
  kid: string;
  alg: typeof accessTokenAlgorithm;
  use: 'sig';
}

export interface NewSigningKey {
  kid: string;
  privateJwk: JWK;
  publicJwk: PublicSigningJwk;
}

/**
 * A fresh Ed25519 key pair as JWKs. Its `kid` is the RFC 7638 thumbprint of the public key:
 * unique without coordination, and anyone can check that it belongs to the key.
 */
export async function generateSigningKey(): Promise<NewSigningKey> {
  const { privateKey, publicKey } = await generateKeyPair(accessTokenAlgorithm, { crv: 'Ed25519', extractable: true });
  const { x } = await exportJWK(publicKey);
  if (x === undefined) throw new Error('an exported Ed25519 public key has no x');
  const kid = await calculateJwkThumbprint({ kty: 'OKP', crv: 'Ed25519', x });
  const publicJwk: PublicSigningJwk = { kty: 'OKP', crv: 'Ed25519', x, kid, alg: accessTokenAlgorithm, use: 'sig' };
  const privateJwk: JWK = { ...(await exportJWK(privateKey)), kid, alg: accessTokenAlgorithm };
  return { kid, privateJwk, publicJwk };
}

/** The private half goes in sealed under the key-encryption key: the database never holds it in plain text. */
function insertKey(tx: Queryable, keyEncryptionKey: Buffer, key: NewSigningKey, suffix: string, options: QueryOptions) {
  return tx.query<{ created_at: Date }>(
    `insert into signing_keys (kid, sealed_private_key, public_jwk) values ($1, $2, $3::jsonb) ${suffix} returning created_at`,
    [key.kid, sealPrivateJwk(keyEncryptionKey, key.kid, key.privateJwk), JSON.stringify(key.publicJwk)], options);
}

/**
 * Makes sure a key can sign, generating the first one if there is none. Safe for two replicas
 * that start at once: the index that allows one active key makes the second insert a no-op.
 */
export async function ensureSigningKey(db: Database, keyEncryptionKey: Buffer, options: QueryOptions = {}): Promise<{ created: boolean }> {
  const { rows } = await db.query('select 1 from signing_keys where retired_at is null', [], options);
  if (rows.length > 0) return { created: false };
  const { rowCount } = await insertKey(db, keyEncryptionKey, await generateSigningKey(), 'on conflict ((true)) where retired_at is null do nothing', options);
  return { created: rowCount > 0 };
}

/**
 * Retires the active key and makes a new one that signs from now on. The retired key's public
 * half stays published (see listPublishedKeys), so the tokens it signed still verify until they
 * expire; its private half is erased, since it will never sign again.
 */
export async function rotateSigningKey(db: Database, keyEncryptionKey: Buffer, options: QueryOptions = {}): Promise<{ kid: string; createdAt: Date }> {
  const key = await generateSigningKey();
  return db.transaction(async (tx) => {
    // Rotations take turns (plain reads still go on): two at once would otherwise both
    // retire the same key and then collide on inserting their new ones.
    await tx.query('lock table signing_keys in share row exclusive mode', [], options);
    await tx.query('update signing_keys set retired_at = clock_timestamp(), sealed_private_key = null where retired_at is null', [], options);
    const { rows } = await insertKey(tx, keyEncryptionKey, key, '', options);
    return { kid: key.kid, createdAt: rows[0]?.created_at ?? new Date() };
  }, options);
}

/** The key that signs now: the one that is not retired, still sealed. */
export async function findActiveSigningKey(db: Queryable, options: QueryOptions): Promise<{ kid: string; sealedPrivateKey: Buffer } | undefined> {
  const { rows } = await db.query<{ kid: string; sealed_private_key: Buffer }>(
    'select kid, sealed_private_key from signing_keys where retired_at is null', [], options);
  const row = rows[0];
  return row === undefined ? undefined : { kid: row.kid, sealedPrivateKey: row.sealed_private_key };
}

/** The active key's private half, opened with the key-encryption key; throws KeySealingError with the wrong one. */
export async function openActiveSigningKey(db: Queryable, keyEncryptionKey: Buffer, options: QueryOptions): Promise<{ kid: string; privateJwk: JWK } | undefined> {
  const active = await findActiveSigningKey(db, options);
  return active === undefined ? undefined : { kid: active.kid, privateJwk: openPrivateJwk(keyEncryptionKey, active.kid, active.sealedPrivateKey) };
}

/**
 * The public keys verifiers must know: the active one, and every retired one that may still
 * have signed a token that has not expired, i.e. retired less than `retiredForSeconds` ago.
 * Newest first.
 */
export async function listPublishedKeys(db: Queryable, { retiredForSeconds }: { retiredForSeconds: number }, options: QueryOptions): Promise<PublicSigningJwk[]> {
  const { rows } = await db.query<{ public_jwk: PublicSigningJwk }>(
    `select public_jwk from signing_keys
      where retired_at is null or retired_at > now() - make_interval(secs => $1)
      order by created_at desc`,
    [retiredForSeconds], options);
  return rows.map((row) => row.public_jwk);
}

/**
 * Makes sure the active key opens with the key-encryption key, sealing it again from the
 * previous key-encryption key when that is what sealed it (a change of key-encryption key in
 * progress). Only the active key has a private half to seal: retired ones have none. Throws
 * KeySealingError when neither opens it, so the service does not start signing with nothing.
 */
export async function ensureActiveKeyOpens(db: Database, keyEncryptionKey: Buffer, previous: Buffer | undefined, options: QueryOptions = {}): Promise<{ resealed: boolean }> {
  const active = await findActiveSigningKey(db, options);
  if (active === undefined) return { resealed: false };
  try {
    openPrivateJwk(keyEncryptionKey, active.kid, active.sealedPrivateKey);
    return { resealed: false };
  } catch (error) {
    if (previous === undefined || !(error instanceof KeySealingError)) throw error;
  }
  const privateJwk = openPrivateJwk(previous, active.kid, active.sealedPrivateKey);
  // Only if it is still the same sealed bytes: a replica that resealed it first has done the work.
  await db.query('update signing_keys set sealed_private_key = $3 where kid = $1 and sealed_private_key = $2',
    [active.kid, active.sealedPrivateKey, sealPrivateJwk(keyEncryptionKey, active.kid, privateJwk)], options);
  return { resealed: true };
}
