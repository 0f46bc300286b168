-- Revoked access tokens, published to every verifier at GET /v1/token-revocations?since=<seq>.
-- A row revokes one token (token_id: a sign-out) or every token of a user issued before
-- revoked_before (a password change, a sign-out of every session). It matters until expires_at,
-- when every token it can match has expired; then it is deleted.
create table token_revocations (
  seq            bigint generated always as identity primary key,
  user_id        uuid not null,
  token_id       text,
  revoked_before timestamptz,
  expires_at     timestamptz not null,
  check ((token_id is null) <> (revoked_before is null))
);

create index token_revocations_token on token_revocations (token_id) where token_id is not null;
create index token_revocations_user on token_revocations (user_id, revoked_before) where revoked_before is not null;
create index token_revocations_expiry on token_revocations (expires_at);

-- The latest cut-off for the user's tokens: a sign-in issues tokens dated at or after it, so a
-- token issued just after a password change (in the same second) is not taken for an older one.
alter table users add column tokens_revoked_before timestamptz;
