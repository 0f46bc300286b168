import { Code, KitError } from '../errors/index.ts';
import type { Role, VerifiedToken } from './access-token.ts';

// Each role's refusal, with a reason of its own that a client may branch on (docs/errors.md).
const refusalOf: Readonly<Record<Role, () => KitError>> = {
  staff: () => new KitError(Code.PermissionDenied, 'only staff may do this', { reason: 'staff_only' }),
};

/**
 * The verified token, if it carries `role`; else `permission_denied` (403, reason
 * `<role>_only`). The one check the gateway and the service that owns the route both make: the
 * gateway to refuse early, the service because the gateway is not the only way in.
 *
 * @example
 * const staff = requireRole(await verifier.verify(bearerTokenOf(request.headers.authorization)), 'staff');
 */
export function requireRole(token: VerifiedToken, role: Role): VerifiedToken {
  if (token.roles.includes(role)) return token;
  throw refusalOf[role]();
}
