-- The shop's starting catalogue. A migration runs once per database, and `on conflict do
-- nothing` leaves alone any product an operator already created under one of these SKUs, so
-- the seed never overwrites real stock or prices.
insert into products (sku, name, price_cents, currency, stock) values
  ('COFFEE-1KG',         'Single-origin coffee beans, 1 kg',         2490, 'EUR', 120),
  ('COFFEE-250G',        'Espresso roast coffee beans, 250 g',         890, 'EUR', 300),
  ('COFFEE-DECAF-500G',  'Swiss-water decaf coffee, 500 g',           1590, 'EUR',  60),
  ('TEA-GREEN-100G',     'Sencha green tea, loose leaf, 100 g',        990, 'EUR',  80),
  ('TEA-EARLGREY-100G',  'Earl Grey black tea, loose leaf, 100 g',     790, 'EUR',  95),
  ('TEA-CHAMOMILE-50G',  'Chamomile flowers, 50 g',                    590, 'EUR',  45),
  ('MUG-STONEWARE',      'Stoneware mug, 350 ml',                     1450, 'EUR', 200),
  ('MUG-TRAVEL',         'Insulated travel mug, 470 ml',              2490, 'EUR',  75),
  ('GRINDER-BURR',       'Manual burr coffee grinder',                5990, 'EUR',  25),
  ('KETTLE-GOOSENECK',   'Gooseneck pour-over kettle, 1 l',           4990, 'EUR',  30),
  ('DRIPPER-CERAMIC',    'Ceramic pour-over dripper',                 2290, 'EUR',  50),
  ('FILTER-PAPER-100',   'Paper filters, pack of 100',                 490, 'EUR', 500),
  ('FRENCH-PRESS-1L',    'French press, borosilicate glass, 1 l',     3490, 'EUR',  40),
  ('MOKA-POT-6',         'Aluminium moka pot, 6 cups',                2990, 'EUR',  35),
  ('SCALE-DIGITAL',      'Digital coffee scale with timer',           3990, 'EUR',  20),
  ('TEAPOT-CAST-IRON',   'Cast-iron teapot, 800 ml',                  4590, 'EUR',  15),
  ('INFUSER-STEEL',      'Stainless-steel tea infuser',                690, 'EUR', 150),
  ('CANISTER-AIRTIGHT',  'Airtight coffee canister, 500 g',           1990, 'EUR',  60),
  ('MILK-FROTHER',       'Handheld milk frother',                     1290, 'EUR',  70),
  ('CHOCOLATE-DARK-70',  'Dark chocolate 70 %, 100 g bar',             390, 'EUR', 250),
  ('BISCOTTI-ALMOND',    'Almond biscotti, 200 g',                     650, 'EUR', 110),
  ('HONEY-ACACIA-250G',  'Acacia honey, 250 g jar',                    890, 'EUR',  90),
  ('GIFT-CARD-25',       'Gift card, 25 EUR',                         2500, 'EUR', 400),
  ('TOTE-CANVAS',        'Canvas tote bag',                           1190, 'EUR',  10)
on conflict (sku) do nothing;
