-- The keys access tokens are signed with (Ed25519, as JWKs). The newest key that is not retired
-- signs; the public halves are published as a JWKS until every token a key signed has expired.
-- A retired key never signs again, so its private half is erased when it is retired.
create table signing_keys (
  kid         text primary key,
  private_jwk jsonb,
  public_jwk  jsonb not null,
  created_at  timestamptz not null default now(),
  retired_at  timestamptz,
  check (retired_at is not null or private_jwk is not null)
);

-- At most one key signs at a time: two replicas that start together, or two rotations at
-- once, cannot both leave an active key behind.
create unique index signing_keys_one_active on signing_keys ((true)) where retired_at is null;
