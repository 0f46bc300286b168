-- Sessions: one per sign-in (or sign-up), kept alive by refresh tokens. A refresh token is used
-- once: using it gives a new one in the same session and marks it used. A used one shown again
-- means two parties hold the session's tokens (one of them stole it), so the whole session is
-- revoked. Only a hash of each token is stored: a copy of this table signs nobody in.
create table sessions (
  id             uuid primary key default gen_random_uuid(),
  user_id        uuid not null references users (id) on delete cascade,
  created_at     timestamptz not null default now(),
  -- However often it is refreshed, a session ends here (SESSION_MAX_AGE_SECONDS).
  expires_at     timestamptz not null,
  revoked_at     timestamptz,
  revoked_reason text check (revoked_reason in ('sign_out', 'password_change', 'refresh_token_reused'))
);
create index sessions_by_user on sessions (user_id) where revoked_at is null;

create table refresh_tokens (
  -- SHA-256 of the token: 256 random bits need no salt or slow hash.
  token_hash bytea primary key,
  session_id uuid not null references sessions (id) on delete cascade,
  issued_at  timestamptz not null default now(),
  expires_at timestamptz not null,
  used_at    timestamptz
);
create index refresh_tokens_by_session on refresh_tokens (session_id);
