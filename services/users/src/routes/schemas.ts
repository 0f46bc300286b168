import { z } from 'zod';
import { changePasswordBody as publicChangePasswordBody, email, loginBody as publicLoginBody, password, registerBody as publicRegisterBody } from '@baton/contracts/http';
import { isCommonPassword } from '../common-passwords.ts';

/**
 * Emails are trimmed and lower-cased before anything else, so " Ada@Example.com" and
 * "ada@example.com" are one account (the table's check constraint insists on lower case).
 * Then they are checked with the public API's rule, so the gateway and this service agree.
 */
const normalisedEmail = z.string().trim().toLowerCase().pipe(email);

/** A new password: the public API's rule, and not on the list of breached ones (checked here, where passwords are kept). */
const newPassword = password.refine((value) => !isCommonPassword(value), 'is one of the most common breached passwords; choose another');

/** POST /v1/users: the public API's fields and rules, with the email normalised and the password checked. */
export const registerBody = z.strictObject({
  email: normalisedEmail,
  password: newPassword,
  name: publicRegisterBody.shape.name,
});

/**
 * POST /v1/auth/login. The email is normalised but not checked for form: a malformed one
 * simply names no account, and gets the same 401 as any other wrong sign-in.
 */
export const loginBody = z.strictObject({
  email: publicLoginBody.shape.email.trim().toLowerCase(),
  password: publicLoginBody.shape.password,
});

/** POST /v1/users/me/password: the public API's fields, the new password checked as at registration. */
export const changePasswordBody = z.strictObject({ ...publicChangePasswordBody.shape, newPassword });

export const userParams = z.strictObject({ id: z.uuid() });

/**
 * A public key as published. Only these members are sent, whatever the row holds: even a bug
 * that put a private key here could not send its private part (`d`).
 */
const publicJwk = z.object({
  kty: z.literal('OKP'),
  crv: z.literal('Ed25519'),
  x: z.string(),
  kid: z.string(),
  alg: z.literal('EdDSA'),
  use: z.literal('sig'),
});

export const jwksResponse = z.object({ keys: z.array(publicJwk) });

export const rotatedKeyResponse = z.object({ kid: z.string(), createdAt: z.iso.datetime() });
