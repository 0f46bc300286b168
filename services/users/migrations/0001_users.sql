-- Accounts. Emails are stored lower-cased so uniqueness does not depend on letter case.
create table users (
  id            uuid primary key default gen_random_uuid(),
  email         text not null unique check (email = lower(email)),
  name          text not null,
  password_hash text not null,
  created_at    timestamptz not null default now()
);
