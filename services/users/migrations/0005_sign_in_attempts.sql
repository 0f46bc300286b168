-- Failed sign-ins per account, for the exponential delay of src/sign-in-throttle.ts. Keyed by the
-- normalised email as typed, whether or not an account has it, so the throttle answers alike for
-- every email and says nothing of which accounts exist. A right sign-in deletes its row.
create table sign_in_attempts (
  email           text primary key,
  failures        integer not null,
  blocked_until   timestamptz,
  last_attempt_at timestamptz not null default now()
);

-- Rows quiet for longer than the longest wait are deleted (they would start over anyway).
create index sign_in_attempts_last_attempt_at on sign_in_attempts (last_attempt_at);
