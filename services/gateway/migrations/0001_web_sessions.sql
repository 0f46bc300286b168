-- Sign-in sessions of the web storefront, which the gateway serves; API callers use bearer tokens.
create table web_sessions (
  id         text primary key,
  user_id    uuid not null,
  created_at timestamptz not null default now(),
  expires_at timestamptz not null
);
create index web_sessions_by_expiry on web_sessions (expires_at);
