-- Orders belong to users.
CREATE TABLE orders (
    id bigserial PRIMARY KEY,
    user_id integer NOT NULL REFERENCES users (id),
    total numeric(12, 2) NOT NULL DEFAULT 0
);
CREATE INDEX ix_orders_user ON orders (user_id);
