import type { ServiceImpl } from '@connectrpc/connect';
import type { UsersService } from '@baton/contracts/users/v1';
import type { Database } from '@baton/kit/db';
import { Code, KitError } from '@baton/kit/errors';
import { validateInput } from '@baton/kit/rpc';
import { userParams } from '../routes/schemas.ts';
import { findUserById } from '../users/repository.ts';
import { userView } from '../users/user.ts';

/**
 * `baton.users.v1.UsersService` over gRPC: the same look-up and the same rules as
 * `GET /v1/users/:id`. The signal is the kit's: the call's deadline, or the caller gone.
 */
export function createUsersRpc({ db }: { db: Database }): ServiceImpl<typeof UsersService> {
  return {
    async getUser(request, { signal }) {
      const { id } = validateInput(userParams, { id: request.id });
      const row = await findUserById(db, id, { signal });
      if (row === undefined) throw new KitError(Code.NotFound, 'no such user', { details: { id } });
      // The message has the fields orders needs; roles are for the public API's own view.
      const { id: userId, email, name } = userView(row);
      return { user: { id: userId, email, name } };
    },
  };
}
