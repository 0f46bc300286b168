-- Each line keeps the product's name as it was when ordered, for the order's answers and its
-- emails. Lines of orders placed before this have none: the API shows their SKU instead.
alter table order_items add column name text;
