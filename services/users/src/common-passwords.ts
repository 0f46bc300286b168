import { dictionary } from '@zxcvbn-ts/language-common';

/**
 * The ~49,000 passwords seen most often in public breaches, as the maintained zxcvbn-ts project
 * ships them (lower case, offline: no password leaves the service to be checked). NIST SP
 * 800-63B asks that a new password be compared against such a list; the minimum length (8)
 * stays the contract's.
 */
const commonPasswords: ReadonlySet<string> = new Set(dictionary['passwords-common']);

/** Whether `password` (compared as the hash sees it, NFKC, and in any letter case) is on the list. */
export function isCommonPassword(password: string): boolean {
  return commonPasswords.has(password.normalize('NFKC').toLowerCase());
}
