DROP INDEX CONCURRENTLY ix_orders_coupon;
ALTER TABLE orders DROP COLUMN coupon_id;
