/* The store's schema, one string per version: migration N brings a store
 * from user_version N-1 to N. Migrations are only ever appended. */
#ifndef PATRON_SCHEMA_H
#define PATRON_SCHEMA_H

static const char *const patron_migrations[] = {
	/* 1: the customer graph. Times are Unix seconds (UTC), money is cents. */
	"CREATE TABLE customers ("
	"  id INTEGER PRIMARY KEY,"
	"  first_name TEXT, last_name TEXT,"
	"  created_at INTEGER NOT NULL,"	/* signup, or first order */
	"  updated_at INTEGER NOT NULL);"
	/* How a customer is recognised: email, phone, id, stripe, shopify. */
	"CREATE TABLE identities ("
	"  kind TEXT NOT NULL, value TEXT NOT NULL,"
	"  customer_id INTEGER NOT NULL REFERENCES customers(id) ON DELETE CASCADE,"
	"  PRIMARY KEY (kind, value)) WITHOUT ROWID;"
	"CREATE INDEX identities_customer ON identities(customer_id);"
	"CREATE TABLE attribute_defs ("
	"  name TEXT PRIMARY KEY,"
	"  type TEXT NOT NULL CHECK (type IN ('integer','real','date','text'))) WITHOUT ROWID;"
	"CREATE TABLE attributes ("
	"  customer_id INTEGER NOT NULL REFERENCES customers(id) ON DELETE CASCADE,"
	"  name TEXT NOT NULL REFERENCES attribute_defs(name),"
	"  value NOT NULL,"
	"  PRIMARY KEY (customer_id, name)) WITHOUT ROWID;"
	"CREATE TABLE tags ("
	"  customer_id INTEGER NOT NULL REFERENCES customers(id) ON DELETE CASCADE,"
	"  tag TEXT NOT NULL, created_at INTEGER NOT NULL,"
	"  PRIMARY KEY (customer_id, tag)) WITHOUT ROWID;"
	"CREATE TABLE consent ("
	"  customer_id INTEGER NOT NULL REFERENCES customers(id) ON DELETE CASCADE,"
	"  channel TEXT NOT NULL,"
	"  granted INTEGER NOT NULL CHECK (granted IN (0, 1)),"
	"  source TEXT NOT NULL, updated_at INTEGER NOT NULL,"
	"  PRIMARY KEY (customer_id, channel)) WITHOUT ROWID;"
	"CREATE TABLE products ("
	"  id INTEGER PRIMARY KEY,"
	"  sku TEXT NOT NULL UNIQUE,"	/* the product name when the file has no SKU */
	"  name TEXT, category TEXT, price_cents INTEGER,"
	"  created_at INTEGER NOT NULL);"
	/* revenue is 0 for failed, refunded, voided, pending and cancelled orders:
	 * they are kept, but are not money the customer spent. */
	"CREATE TABLE orders ("
	"  id INTEGER PRIMARY KEY,"
	"  source TEXT NOT NULL, order_key TEXT NOT NULL,"
	"  customer_id INTEGER NOT NULL REFERENCES customers(id),"
	"  placed_at INTEGER NOT NULL,"
	"  total_cents INTEGER NOT NULL, currency TEXT,"
	"  status TEXT NOT NULL, revenue INTEGER NOT NULL CHECK (revenue IN (0, 1)),"
	"  UNIQUE (source, order_key));"
	"CREATE INDEX orders_customer ON orders(customer_id, placed_at);"
	"CREATE TABLE order_lines ("
	"  order_id INTEGER NOT NULL REFERENCES orders(id) ON DELETE CASCADE,"
	"  line_no INTEGER NOT NULL,"
	"  product_id INTEGER NOT NULL REFERENCES products(id),"
	"  quantity INTEGER NOT NULL, unit_cents INTEGER NOT NULL, amount_cents INTEGER NOT NULL,"
	"  PRIMARY KEY (order_id, line_no)) WITHOUT ROWID;"
	"CREATE TABLE feedback ("
	"  id INTEGER PRIMARY KEY,"
	"  customer_id INTEGER NOT NULL REFERENCES customers(id),"
	"  received_at INTEGER NOT NULL, rating INTEGER, body TEXT NOT NULL,"
	"  UNIQUE (customer_id, received_at, body));"
	/* The event log: append-only; subscribers keep cursors into it. */
	"CREATE TABLE events ("
	"  id INTEGER PRIMARY KEY,"
	"  topic TEXT NOT NULL, customer_id INTEGER,"
	"  payload TEXT NOT NULL DEFAULT '{}',"
	"  occurred_at INTEGER NOT NULL, recorded_at INTEGER NOT NULL);"
	/* Written by plugins: the latest value of each score per customer. */
	"CREATE TABLE scores ("
	"  customer_id INTEGER NOT NULL REFERENCES customers(id) ON DELETE CASCADE,"
	"  name TEXT NOT NULL, value REAL, label TEXT,"
	"  model TEXT NOT NULL, computed_at INTEGER NOT NULL,"
	"  PRIMARY KEY (customer_id, name)) WITHOUT ROWID;"
	"CREATE TABLE imports ("
	"  id INTEGER PRIMARY KEY, kind TEXT NOT NULL, file TEXT NOT NULL,"
	"  rows INTEGER NOT NULL, rejected INTEGER NOT NULL, at INTEGER NOT NULL);",

	/* 2: recommendation lists written by recommender plugins, best first. */
	"CREATE TABLE recommendations ("
	"  customer_id INTEGER NOT NULL REFERENCES customers(id) ON DELETE CASCADE,"
	"  rank INTEGER NOT NULL,"
	"  product_id INTEGER NOT NULL REFERENCES products(id) ON DELETE CASCADE,"
	"  score REAL, model TEXT NOT NULL, computed_at INTEGER NOT NULL,"
	"  PRIMARY KEY (customer_id, rank)) WITHOUT ROWID;",

	/* 3: trained models: parameters as JSON, a version per plugin name. */
	"CREATE TABLE models ("
	"  name TEXT NOT NULL, version INTEGER NOT NULL,"
	"  plugin_version TEXT NOT NULL, params TEXT NOT NULL CHECK (json_valid(params)),"
	"  trained_at INTEGER NOT NULL, as_of INTEGER NOT NULL,"
	"  PRIMARY KEY (name, version)) WITHOUT ROWID;",

	/* 4: the event bus and the rules. A subscriber's cursor is the id of
	 * the last event it was handed; a failure is kept, not retried. */
	"CREATE TABLE cursors ("
	"  subscriber TEXT PRIMARY KEY, event_id INTEGER NOT NULL,"
	"  updated_at INTEGER NOT NULL) WITHOUT ROWID;"
	"CREATE TABLE bus_failures ("
	"  id INTEGER PRIMARY KEY, subscriber TEXT NOT NULL, event_id INTEGER NOT NULL,"
	"  error TEXT NOT NULL, at INTEGER NOT NULL);"
	/* When each scheduled rule (and the daily/hourly ticks) last ran. */
	"CREATE TABLE schedules ("
	"  name TEXT PRIMARY KEY, last_at INTEGER NOT NULL) WITHOUT ROWID;"
	/* Everything a rule did or was refused: status done, refused or error. */
	"CREATE TABLE audit ("
	"  id INTEGER PRIMARY KEY, rule TEXT NOT NULL, trigger TEXT NOT NULL,"
	"  event_id INTEGER, customer_id INTEGER,"
	"  action TEXT NOT NULL, detail TEXT NOT NULL DEFAULT '{}',"
	"  status TEXT NOT NULL, reason TEXT, at INTEGER NOT NULL);"
	"CREATE INDEX audit_rule_customer ON audit(rule, customer_id, at);"
	"CREATE INDEX audit_customer ON audit(customer_id, at);"
	/* The transactional outbox: written with the audit row, drained by
	 * the channels. key is the idempotency key (rule, trigger, customer). */
	"CREATE TABLE outbox ("
	"  id INTEGER PRIMARY KEY, key TEXT NOT NULL UNIQUE,"
	"  channel TEXT NOT NULL, customer_id INTEGER,"
	"  address TEXT NOT NULL, template TEXT NOT NULL, template_path TEXT,"
	"  vars TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(vars)),"
	"  rule TEXT, audit_id INTEGER, status TEXT NOT NULL DEFAULT 'queued',"
	"  attempts INTEGER NOT NULL DEFAULT 0, next_at INTEGER, last_error TEXT,"
	"  created_at INTEGER NOT NULL, sent_at INTEGER);"
	"CREATE INDEX outbox_customer ON outbox(customer_id, created_at);"
	"CREATE INDEX outbox_status ON outbox(status, id);",

	/* 5: the store's own settings, such as the key that signs unsubscribe
	 * links (made on first use). */
	"CREATE TABLE settings ("
	"  name TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;",

	/* 6: a customer's recommendations as one row, a JSON list best first
	 * of [product id, score, why] (why: the ids of the products the
	 * customer bought that led to it, most first, comma-separated, or
	 * null). A row per recommendation cost two foreign-key lookups each:
	 * ten million of them for a million customers. The view keeps the
	 * row-per-recommendation shape for reading, with rank from 1. */
	"CREATE TABLE recommendation_lists ("
	"  customer_id INTEGER PRIMARY KEY REFERENCES customers(id) ON DELETE CASCADE,"
	"  items TEXT NOT NULL, model TEXT NOT NULL, computed_at INTEGER NOT NULL);"
	"INSERT INTO recommendation_lists SELECT customer_id,"
	"  json_group_array(json_array(product_id, score, NULL)), min(model), max(computed_at)"
	"  FROM (SELECT * FROM recommendations ORDER BY customer_id, rank) GROUP BY customer_id;"
	"DROP TABLE recommendations;"
	"CREATE VIEW recommendations AS SELECT l.customer_id AS customer_id,"
	"  j.key + 1 AS rank, j.value ->> 0 AS product_id, j.value ->> 1 AS score,"
	"  l.model AS model, l.computed_at AS computed_at, j.value ->> 2 AS because"
	"  FROM recommendation_lists l, json_each(l.items) j;",

	/* 7: orders as shops' exports have them. A guest order (no identity)
	 * has no customer and still counts in the shop's figures. Money is
	 * kept three ways: gross_cents charged, refunded_cents given back,
	 * amount_cents the rest (gross minus refunds) in the order's own
	 * currency, and total_cents the same in the shop's base currency: the
	 * one every feature, rule and score reads. Either counts only where
	 * revenue is 1 (not for cancelled, voided, failed, pending or disputed
	 * orders). disputed_cents is under an open dispute: revenue at risk,
	 * not counted until the dispute is won.
	 * Currencies are upper-case ISO codes; NULL is the base currency.
	 * Rebuilt because SQLite cannot drop NOT NULL in place; the store
	 * runs migrations with foreign keys off, so order_lines keep their
	 * rows. */
	"CREATE TABLE orders_v7 ("
	"  id INTEGER PRIMARY KEY,"
	"  source TEXT NOT NULL, order_key TEXT NOT NULL,"
	"  customer_id INTEGER REFERENCES customers(id),"
	"  placed_at INTEGER NOT NULL,"
	"  total_cents INTEGER NOT NULL, currency TEXT,"
	"  amount_cents INTEGER NOT NULL, gross_cents INTEGER NOT NULL,"
	"  refunded_cents INTEGER NOT NULL DEFAULT 0, disputed_cents INTEGER NOT NULL DEFAULT 0,"
	"  status TEXT NOT NULL, revenue INTEGER NOT NULL CHECK (revenue IN (0, 1)),"
	"  updated_at INTEGER,"
	"  UNIQUE (source, order_key));"
	"INSERT INTO orders_v7(id, source, order_key, customer_id, placed_at, total_cents, currency,"
	"  amount_cents, gross_cents, status, revenue)"
	"  SELECT id, source, order_key, customer_id, placed_at, total_cents, upper(currency),"
	"  total_cents, total_cents, status, revenue FROM orders;"
	"DROP TABLE orders;"
	"ALTER TABLE orders_v7 RENAME TO orders;"
	"CREATE INDEX orders_customer ON orders(customer_id, placed_at);"
	/* Exchange rates: one unit of CURRENCY is RATE units of the base
	 * currency from DAY (Unix seconds at 00:00 UTC) on, until a later day's. */
	"CREATE TABLE rates ("
	"  currency TEXT NOT NULL, day INTEGER NOT NULL, rate REAL NOT NULL CHECK (rate > 0),"
	"  PRIMARY KEY (currency, day)) WITHOUT ROWID;",

	/* 8: erasures (patron erase): when, the anonymous customer the orders
	 * were kept under, and how many rows of each kind were cleared; never
	 * the erased values. */
	"CREATE TABLE erasures ("
	"  id INTEGER PRIMARY KEY, at INTEGER NOT NULL, tombstone INTEGER,"
	"  counts TEXT NOT NULL CHECK (json_valid(counts)));",

	/* 9: each feedback's sentiment, from -1 to 1, by the analyzer the
	 * config chooses (NULL until one has read it). */
	"ALTER TABLE feedback ADD COLUMN sentiment REAL;",

	/* 10: patron serve. What a webhook sender already delivered (SOURCE
	 * "shopify" or "stripe", KEY its delivery or event id; a Shopify
	 * order's id keeps the order's name in VALUE, for its refunds); the
	 * keys a site's own events are sent with (only their hash); and the
	 * first open of each message. */
	"CREATE TABLE webhook_seen ("
	"  source TEXT NOT NULL, key TEXT NOT NULL, value TEXT, at INTEGER NOT NULL,"
	"  PRIMARY KEY (source, key)) WITHOUT ROWID;"
	"CREATE TABLE api_keys ("
	"  name TEXT PRIMARY KEY, hash TEXT NOT NULL UNIQUE,"
	"  created_at INTEGER NOT NULL, revoked_at INTEGER) WITHOUT ROWID;"
	"CREATE TABLE message_opens ("
	"  outbox_id INTEGER PRIMARY KEY, at INTEGER NOT NULL);",

	/* 11: each customer's paid orders summed (count, base-currency cents,
	 * first and last placed_at), so a rule over every customer reads a
	 * million rows instead of summing ten million orders. The import, the
	 * one writer of new orders, sums the customers it gave orders at its
	 * end (a trigger per new order would double the import's time); any
	 * change or deletion of an order sums its customer's orders again, by
	 * trigger. A later migration that rebuilds orders must recreate these
	 * triggers. patron check compares the two. */
	"CREATE TABLE customer_orders ("
	"  customer_id INTEGER PRIMARY KEY, orders INTEGER NOT NULL,"
	"  spent_cents INTEGER NOT NULL, first_at INTEGER, last_at INTEGER);"
	"INSERT INTO customer_orders SELECT customer_id, count(*), sum(total_cents),"
	"  min(placed_at), max(placed_at) FROM orders WHERE revenue AND customer_id IS NOT NULL"
	"  GROUP BY customer_id;"
	"CREATE TRIGGER customer_orders_update AFTER UPDATE OF customer_id, total_cents, revenue,"
	"  placed_at ON orders BEGIN"
	"  DELETE FROM customer_orders WHERE customer_id IN (OLD.customer_id, NEW.customer_id);"
	"  INSERT INTO customer_orders SELECT customer_id, count(*), sum(total_cents),"
	"   min(placed_at), max(placed_at) FROM orders"
	"   WHERE customer_id IN (OLD.customer_id, NEW.customer_id) AND revenue"
	"   GROUP BY customer_id;"
	"  END;"
	"CREATE TRIGGER customer_orders_delete AFTER DELETE ON orders"
	"  WHEN OLD.customer_id IS NOT NULL BEGIN"
	"  DELETE FROM customer_orders WHERE customer_id = OLD.customer_id;"
	"  INSERT INTO customer_orders SELECT customer_id, count(*), sum(total_cents),"
	"   min(placed_at), max(placed_at) FROM orders"
	"   WHERE customer_id = OLD.customer_id AND revenue GROUP BY customer_id;"
	"  END;",

	/* 12: scores kept compact. A score's name, the model that wrote it and
	 * when are stored once per name (score_names), labels once each
	 * (score_labels), and each customer's value under integer keys, a
	 * name's rows together: a run replaces its names' rows in one range
	 * each, written in customer order, instead of upserting rows spelling
	 * out name and model. The view keeps the old shape for reading (and
	 * writing, by trigger, for the odd row). */
	"CREATE TABLE score_names ("
	"  id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE,"
	"  model TEXT NOT NULL, computed_at INTEGER NOT NULL);"
	"CREATE TABLE score_labels (id INTEGER PRIMARY KEY, label TEXT NOT NULL UNIQUE);"
	"CREATE TABLE score_values ("
	"  name_id INTEGER NOT NULL, customer_id INTEGER NOT NULL, value REAL, label_id INTEGER,"
	"  PRIMARY KEY (name_id, customer_id)) WITHOUT ROWID;"
	"INSERT INTO score_names(name, model, computed_at)"
	"  SELECT name, max(model), max(computed_at) FROM scores GROUP BY name;"
	"INSERT INTO score_labels(label) SELECT DISTINCT label FROM scores WHERE label IS NOT NULL;"
	"INSERT INTO score_values SELECT n.id, s.customer_id, s.value, l.id FROM scores s"
	"  JOIN score_names n ON n.name = s.name LEFT JOIN score_labels l ON l.label = s.label"
	"  ORDER BY n.id, s.customer_id;"
	"DROP TABLE scores;"
	"CREATE VIEW scores AS SELECT v.customer_id AS customer_id, n.name AS name,"
	"  v.value AS value, l.label AS label, n.model AS model, n.computed_at AS computed_at"
	"  FROM score_values v JOIN score_names n ON n.id = v.name_id"
	"  LEFT JOIN score_labels l ON l.id = v.label_id;"
	"CREATE TRIGGER scores_insert INSTEAD OF INSERT ON scores BEGIN"
	"  INSERT INTO score_names(name, model, computed_at) VALUES (NEW.name, NEW.model,"
	"   NEW.computed_at) ON CONFLICT (name) DO UPDATE SET model = excluded.model,"
	"   computed_at = excluded.computed_at;"
	"  INSERT OR IGNORE INTO score_labels(label) SELECT NEW.label WHERE NEW.label IS NOT NULL;"
	"  INSERT OR REPLACE INTO score_values VALUES ((SELECT id FROM score_names WHERE name ="
	"   NEW.name), NEW.customer_id, NEW.value, (SELECT id FROM score_labels WHERE label ="
	"   NEW.label));"
	"  END;"
	"CREATE TRIGGER scores_delete INSTEAD OF DELETE ON scores BEGIN"
	"  DELETE FROM score_values WHERE name_id = (SELECT id FROM score_names WHERE name ="
	"   OLD.name) AND customer_id = OLD.customer_id;"
	"  END;"
	/* what was ON DELETE CASCADE: a customer's scores go with them */
	"CREATE TRIGGER customer_scores_delete AFTER DELETE ON customers BEGIN"
	"  DELETE FROM score_values WHERE name_id IN (SELECT id FROM score_names)"
	"   AND customer_id = OLD.id;"
	"  END;",
	/* 13: the inbox. A ticket is a conversation with a customer by email:
	 * TOPIC its subject without "Re:" and tags (how a reply without
	 * references is threaded), WAITING_SINCE the customer's oldest message
	 * not answered yet (NULL once answered). Each message is kept once,
	 * under its Message-ID; BODY is what the sender wrote, without the
	 * quoted earlier messages, ENTITIES what it names (orders, tracking
	 * numbers, amounts, dates, products: entities.h) and ORDER_ID the
	 * sender's order a ticket is about, DRAFT an answer suggested (from
	 * DRAFT_SOURCE, "faq:NAME" or "order_status", with its BM25 score) that
	 * waits for the owner's approval. An answer from the shop (DIRECTION
	 * 'out') sent by Patron names its outbox row. */
	"CREATE TABLE tickets ("
	"  id INTEGER PRIMARY KEY,"
	"  customer_id INTEGER NOT NULL REFERENCES customers(id),"
	"  subject TEXT NOT NULL, topic TEXT NOT NULL,"
	"  status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'waiting', 'solved')),"
	"  priority TEXT NOT NULL DEFAULT 'normal' CHECK (priority IN ('low', 'normal', 'high')),"
	"  intent TEXT, confidence REAL, sentiment REAL,"
	"  opened_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, waiting_since INTEGER,"
	"  first_response_at INTEGER, solved_at INTEGER, overdue_at INTEGER,"
	"  order_id INTEGER, draft TEXT, draft_source TEXT, draft_score REAL);"
	"CREATE INDEX tickets_status ON tickets(status, opened_at);"
	"CREATE INDEX tickets_customer ON tickets(customer_id, topic);"
	"CREATE TABLE ticket_messages ("
	"  id INTEGER PRIMARY KEY,"
	"  ticket_id INTEGER NOT NULL REFERENCES tickets(id) ON DELETE CASCADE,"
	"  message_id TEXT NOT NULL UNIQUE,"
	"  direction TEXT NOT NULL CHECK (direction IN ('in', 'out')),"
	"  sender TEXT NOT NULL, subject TEXT NOT NULL, sent_at INTEGER NOT NULL,"
	"  body TEXT NOT NULL, attachments INTEGER NOT NULL DEFAULT 0, sentiment REAL,"
	"  refs TEXT, outbox_id INTEGER, recorded_at INTEGER NOT NULL,"
	"  entities TEXT CHECK (entities IS NULL OR json_valid(entities)));"
	"CREATE INDEX ticket_messages_ticket ON ticket_messages(ticket_id, sent_at);"
	/* Satisfaction surveys' answers (survey.h): to the survey message
	 * OUTBOX_ID (the latest answer kept), or imported (no message). */
	"CREATE TABLE survey_answers ("
	"  id INTEGER PRIMARY KEY,"
	"  customer_id INTEGER NOT NULL REFERENCES customers(id),"
	"  kind TEXT NOT NULL CHECK (kind IN ('nps', 'csat')), score INTEGER NOT NULL,"
	"  outbox_id INTEGER UNIQUE, ticket_id INTEGER, comment TEXT,"
	"  answered_at INTEGER NOT NULL, source TEXT NOT NULL);"
	"CREATE INDEX survey_answers_customer ON survey_answers(customer_id, answered_at);",
	/* 14: scores one row per customer per run. The names a run writes
	 * share a set (up to eight names a set): each customer is one row of
	 * the set with a slot per name (S0 to S7: the value, or for a name
	 * of labels the label's id), so a million customers' RFM is a
	 * million rows, not five million, and a run's results replace the
	 * previous run's by pointing the names at the new set and deleting
	 * the old set's rows in one range. A slot without a value is no
	 * score. The scores view reads as before; its triggers write the odd
	 * row (a name they make gets a set of its own). */
	"DROP VIEW scores;"
	"DROP TRIGGER customer_scores_delete;"
	"CREATE TABLE score_rows ("
	"  set_id INTEGER NOT NULL, customer_id INTEGER NOT NULL, s0, s1, s2, s3, s4, s5, s6, s7,"
	"  PRIMARY KEY (set_id, customer_id)) WITHOUT ROWID;"
	"ALTER TABLE score_names ADD COLUMN set_id INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE score_names ADD COLUMN slot INTEGER NOT NULL DEFAULT 0"
	"  CHECK (slot BETWEEN 0 AND 7);"
	"ALTER TABLE score_names ADD COLUMN labels INTEGER NOT NULL DEFAULT 0;"
	"UPDATE score_names SET set_id = id, labels = EXISTS (SELECT 1 FROM score_values"
	"  WHERE name_id = score_names.id AND label_id IS NOT NULL);"
	"INSERT INTO score_rows(set_id, customer_id, s0)"
	"  SELECT v.name_id, v.customer_id, iif(n.labels, v.label_id, v.value)"
	"  FROM score_values v JOIN score_names n ON n.id = v.name_id"
	"  WHERE iif(n.labels, v.label_id, v.value) IS NOT NULL ORDER BY 1, 2;"
	"DROP TABLE score_values;"
	"CREATE VIEW scores AS SELECT customer_id, name, iif(labels, NULL, x) AS value,"
	"  iif(labels, (SELECT label FROM score_labels WHERE id = x), NULL) AS label,"
	"  model, computed_at FROM ("
	"  SELECT r.customer_id AS customer_id, n.name AS name, n.labels AS labels,"
	"   CASE n.slot WHEN 0 THEN r.s0 WHEN 1 THEN r.s1 WHEN 2 THEN r.s2 WHEN 3 THEN r.s3"
	"    WHEN 4 THEN r.s4 WHEN 5 THEN r.s5 WHEN 6 THEN r.s6 WHEN 7 THEN r.s7 END AS x,"
	"   n.model AS model, n.computed_at AS computed_at"
	"  FROM score_names n JOIN score_rows r ON r.set_id = n.set_id) WHERE x IS NOT NULL;"
	"CREATE TRIGGER scores_insert INSTEAD OF INSERT ON scores BEGIN"
	"  INSERT INTO score_names(name, model, computed_at, set_id, slot, labels)"
	"   VALUES (NEW.name, NEW.model, NEW.computed_at, 1 + max("
	"    coalesce((SELECT max(set_id) FROM score_names), 0),"
	"    coalesce((SELECT max(set_id) FROM score_rows), 0)), 0, NEW.label IS NOT NULL)"
	"   ON CONFLICT (name) DO UPDATE SET model = excluded.model,"
	"   computed_at = excluded.computed_at;"
	"  INSERT OR IGNORE INTO score_labels(label) SELECT NEW.label WHERE NEW.label IS NOT NULL;"
	"  INSERT OR IGNORE INTO score_rows(set_id, customer_id)"
	"   SELECT set_id, NEW.customer_id FROM score_names WHERE name = NEW.name;"
	"  UPDATE score_rows SET s0 = iif(n.slot = 0, n.x, s0), s1 = iif(n.slot = 1, n.x, s1),"
	"   s2 = iif(n.slot = 2, n.x, s2), s3 = iif(n.slot = 3, n.x, s3),"
	"   s4 = iif(n.slot = 4, n.x, s4), s5 = iif(n.slot = 5, n.x, s5),"
	"   s6 = iif(n.slot = 6, n.x, s6), s7 = iif(n.slot = 7, n.x, s7)"
	"   FROM (SELECT set_id, slot, iif(labels, (SELECT id FROM score_labels WHERE label ="
	"    NEW.label), CAST(NEW.value AS REAL)) AS x FROM score_names WHERE name = NEW.name) AS n"
	"   WHERE score_rows.set_id = n.set_id AND score_rows.customer_id = NEW.customer_id;"
	"  END;"
	"CREATE TRIGGER scores_delete INSTEAD OF DELETE ON scores BEGIN"
	"  UPDATE score_rows SET s0 = iif(n.slot = 0, NULL, s0), s1 = iif(n.slot = 1, NULL, s1),"
	"   s2 = iif(n.slot = 2, NULL, s2), s3 = iif(n.slot = 3, NULL, s3),"
	"   s4 = iif(n.slot = 4, NULL, s4), s5 = iif(n.slot = 5, NULL, s5),"
	"   s6 = iif(n.slot = 6, NULL, s6), s7 = iif(n.slot = 7, NULL, s7)"
	"   FROM (SELECT set_id, slot FROM score_names WHERE name = OLD.name) AS n"
	"   WHERE score_rows.set_id = n.set_id AND score_rows.customer_id = OLD.customer_id;"
	"  END;"
	"CREATE TRIGGER customer_scores_delete AFTER DELETE ON customers BEGIN"
	"  DELETE FROM score_rows WHERE set_id IN (SELECT set_id FROM score_names)"
	"   AND customer_id = OLD.id;"
	"  END;",
	/* 15: recommendation lists without a foreign key. A run writes every
	 * customer's list (results.c checks each names a customer), and the
	 * key's look-ups were half the time of writing a million of them: a
	 * trigger deletes a customer's list with them instead. */
	"DROP VIEW recommendations;"
	"CREATE TABLE recommendation_lists_new ("
	"  customer_id INTEGER PRIMARY KEY,"
	"  items TEXT NOT NULL, model TEXT NOT NULL, computed_at INTEGER NOT NULL);"
	"INSERT INTO recommendation_lists_new SELECT customer_id, items, model, computed_at"
	"  FROM recommendation_lists WHERE customer_id IN (SELECT id FROM customers);"
	"DROP TABLE recommendation_lists;"
	"ALTER TABLE recommendation_lists_new RENAME TO recommendation_lists;"
	"CREATE VIEW recommendations AS SELECT l.customer_id AS customer_id,"
	"  j.key + 1 AS rank, j.value ->> 0 AS product_id, j.value ->> 1 AS score,"
	"  l.model AS model, l.computed_at AS computed_at, j.value ->> 2 AS because"
	"  FROM recommendation_lists l, json_each(l.items) j;"
	"CREATE TRIGGER customer_recommendations_delete AFTER DELETE ON customers BEGIN"
	"  DELETE FROM recommendation_lists WHERE customer_id = OLD.id;"
	"  END;",
};

#endif
