/** What the bare chain's access tokens say of themselves: who issued them and for whom. */
export const tokenIssuer = 'bare-users';
export const tokenAudience = 'bare-shop';
