-- Every message sent, so a user can list theirs and a redelivered event is recognised.
create table notifications (
  id         uuid primary key default gen_random_uuid(),
  user_id    uuid not null,
  channel    text not null default 'email',
  recipient  text not null,
  subject    text not null,
  created_at timestamptz not null default now()
);
create index notifications_by_user on notifications (user_id, created_at desc);
