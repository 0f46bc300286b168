-- The catalogue a storefront needs (a description, a category, images, full-text search) and
-- what staff do to it: every change of stock is a movement with its reason, and every staff
-- action is kept in an audit log (who, what, when).

alter table products
  add column description text not null default '' check (char_length(description) <= 2000),
  add column category text not null default 'other' check (category ~ '^[a-z0-9][a-z0-9-]{0,39}$'),
  -- Filled by the media service (issue 21): where the product's images are served.
  add column image_urls text[] not null default '{}',
  -- Ranked search: a word in the name weighs more than one in the description or the category.
  add column search tsvector generated always as (
    setweight(to_tsvector('english', name), 'A')
    || setweight(to_tsvector('english', description), 'B')
    || setweight(to_tsvector('english', category), 'C')
  ) stored;

create index products_search on products using gin (search);
create index products_category on products (category, sku);
create index products_price on products (price_cents, sku);
create index products_name on products (name, sku);

-- The ledger of stock changed by staff: a restock racing a checkout adds to what is there,
-- never writes over it. (Checkout's holds are the reservations.)
create table stock_movements (
  id          bigint generated always as identity primary key,
  sku         text not null references products (sku),
  delta       integer not null check (delta <> 0),
  reason      text not null check (reason in ('restock', 'correction', 'damaged', 'lost', 'returned')),
  note        text check (char_length(note) <= 500),
  stock_after integer not null check (stock_after >= 0),
  actor       uuid not null,
  created_at  timestamptz not null default now()
);
create index stock_movements_by_sku on stock_movements (sku, id desc);

-- Every staff action: who (the user id of the token), what (the action, the product, the
-- change), when, and the request it came in on.
create table staff_audit (
  id         bigint generated always as identity primary key,
  actor      uuid not null,
  action     text not null check (action in ('product.created', 'product.updated', 'stock.moved')),
  sku        text not null,
  change     jsonb not null,
  request_id text,
  at         timestamptz not null default now()
);
create index staff_audit_by_sku on staff_audit (sku, id desc);

-- The seed's products, described and sorted into categories (only where nobody has yet).
update products p set category = s.category, description = s.description
from (values
  ('COFFEE-1KG',        'coffee',      'Washed Ethiopian beans from one farm, roasted medium for filter and French press. Notes of citrus and black tea.'),
  ('COFFEE-250G',       'coffee',      'A dark espresso roast of Brazilian and Indian beans: chocolate, low acidity, a thick crema.'),
  ('COFFEE-DECAF-500G', 'coffee',      'Colombian beans decaffeinated with water alone, no solvents; roasted medium.'),
  ('TEA-GREEN-100G',    'tea',         'Steamed Japanese green tea, loose leaf: grassy and sweet. Brew at 70 °C for a minute.'),
  ('TEA-EARLGREY-100G', 'tea',         'Ceylon black tea scented with bergamot oil, loose leaf.'),
  ('TEA-CHAMOMILE-50G', 'tea',         'Whole chamomile flowers for a caffeine-free infusion.'),
  ('MUG-STONEWARE',     'cups',        'A glazed stoneware mug that keeps coffee or tea warm; dishwasher safe.'),
  ('MUG-TRAVEL',        'cups',        'A double-walled steel mug with a leak-proof lid: coffee stays hot for hours.'),
  ('GRINDER-BURR',      'brewing',     'Conical ceramic burrs, adjustable from espresso to French press; grinds 30 g of coffee a minute.'),
  ('KETTLE-GOOSENECK',  'brewing',     'A steel kettle with a slow, precise spout for pour-over coffee and tea.'),
  ('DRIPPER-CERAMIC',   'brewing',     'A cone dripper for one or two cups of filter coffee; takes size 2 paper filters.'),
  ('FILTER-PAPER-100',  'brewing',     'Unbleached size 2 paper filters for pour-over coffee drippers.'),
  ('FRENCH-PRESS-1L',   'brewing',     'A borosilicate glass press with a steel mesh filter, for coffee or loose tea.'),
  ('MOKA-POT-6',        'brewing',     'The stovetop classic: strong coffee in five minutes on gas or electric hobs.'),
  ('SCALE-DIGITAL',     'brewing',     'Weighs to 0.1 g and times the brew, for repeatable coffee.'),
  ('TEAPOT-CAST-IRON',  'brewing',     'A Japanese-style cast-iron teapot with an enamel lining and a steel infuser.'),
  ('INFUSER-STEEL',     'brewing',     'A fine-mesh steel basket for loose tea in a mug or teapot.'),
  ('CANISTER-AIRTIGHT', 'accessories', 'Keeps coffee beans fresh: a one-way valve lets gas out and no air in.'),
  ('MILK-FROTHER',      'accessories', 'Froths milk for cappuccino and latte in twenty seconds; runs on two AA batteries.'),
  ('CHOCOLATE-DARK-70', 'treats',      'Bean-to-bar dark chocolate with 70 % cocoa; pairs with espresso.'),
  ('BISCOTTI-ALMOND',   'treats',      'Twice-baked Italian almond biscuits, made for dipping in coffee.'),
  ('HONEY-ACACIA-250G', 'treats',      'Mild, clear acacia honey that sweetens tea without masking it.'),
  ('GIFT-CARD-25',      'gifts',       'A gift card worth 25 EUR, for anything in the shop.'),
  ('TOTE-CANVAS',       'gifts',       'A sturdy cotton canvas tote with the shop''s logo.')
) as s (sku, category, description)
where p.sku = s.sku and p.description = '';
