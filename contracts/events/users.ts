import { z } from 'zod';
import { defineEvent } from './define.ts';

// Owned by the users service: only it publishes these.

/** An account was created. */
export const userRegistered = defineEvent({
  type: 'user.registered',
  version: 1,
  domain: 'users',
  data: z.object({
    userId: z.uuid(),
    email: z.string(),
    name: z.string(),
    registeredAt: z.string(),
  }),
});

export type UserRegistered = z.output<typeof userRegistered.data>;
