-- demo.sql - the small database `make run` serves read-only (built into
-- build/demo.db by meson with the sqlite3 CLI; no binary is committed).
CREATE TABLE customer(id INTEGER PRIMARY KEY, name TEXT NOT NULL, country TEXT);
CREATE TABLE orders(
  id INTEGER PRIMARY KEY,
  customer_id INTEGER NOT NULL REFERENCES customer(id),
  total REAL NOT NULL,
  placed TEXT NOT NULL DEFAULT (date('now'))
);
CREATE INDEX orders_customer ON orders(customer_id);
INSERT INTO customer VALUES (1, 'Ada Lovelace', 'UK'), (2, 'Grace Hopper', 'US'), (3, 'Edsger Dijkstra', 'NL');
INSERT INTO orders VALUES (1, 1, 120.5, '2025-01-03'), (2, 2, 42.0, '2025-01-04'), (3, 1, 7.25, '2025-02-11');
