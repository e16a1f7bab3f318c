-- Expand/contract, step 1: the constraint is added NOT VALID and validated later.
ALTER TABLE orders ADD COLUMN coupon_id integer;
ALTER TABLE orders ADD CONSTRAINT fk_orders_coupon FOREIGN KEY (coupon_id) REFERENCES coupons (id) NOT VALID;
ALTER TABLE orders VALIDATE CONSTRAINT fk_orders_coupon;
CREATE INDEX CONCURRENTLY ix_orders_coupon ON orders (coupon_id);
