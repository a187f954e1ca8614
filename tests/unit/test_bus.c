/* The event bus: topics and patterns, in-order delivery with durable
 * cursors, and one subscriber's failure not stopping the others. */
#include <stdio.h>
#include <string.h>

#include "bus.h"
#include "helpers.h"

START_TEST(matches_topics_by_pattern)
{
	ck_assert(patron_topic_matches("order.*", "order.created"));
	ck_assert(patron_topic_matches("*", "score.changed"));
	ck_assert(patron_topic_matches("order.created", "order.created"));
	ck_assert(!patron_topic_matches("order.*", "customer.created"));
	ck_assert(!patron_topic_matches("order.created", "order.created.late"));
	ck_assert(patron_topic_valid("message.sent"));
	ck_assert(patron_topic_valid("vip_2.promoted-now"));
	ck_assert(!patron_topic_valid("Order.created"));
	ck_assert(!patron_topic_valid("order..created"));
	ck_assert(!patron_topic_valid("order.*"));
	ck_assert(!patron_topic_valid(""));
	ck_assert(patron_pattern_valid("order.*"));
	ck_assert(!patron_pattern_valid("order.[ab]"));
}
END_TEST

/* A subscriber that writes down the ids it got and fails on FAIL_ID. */
typedef struct {
	char seen[256];
	int64_t fail_id, hold_id;
} recorder;

static int record(void *ud, const patron_event *ev, patron_err *err)
{
	recorder *r = ud;
	if (ev->id == r->hold_id)
		return PATRON_BUS_HOLD;
	size_t n = strlen(r->seen);
	snprintf(r->seen + n, sizeof r->seen - n, "%s%lld", n ? "," : "", (long long)ev->id);
	if (ev->id == r->fail_id) {
		patron_err_set(err, "cannot handle %lld", (long long)ev->id);
		return PATRON_BUS_FAILED;
	}
	return PATRON_BUS_OK;
}

static void publish(patron_bus *b, const char *topic)
{
	patron_err err;
	ck_assert_int_eq(patron_bus_publish(b, topic, 0, NULL, TEST_NOW, TEST_NOW, &err), 0);
}

START_TEST(delivers_in_order_once_with_a_durable_cursor)
{
	patron_store *s = test_store();
	patron_bus *b = patron_bus_new(s);
	patron_err err;
	publish(b, "order.created");	/* 1 */
	publish(b, "customer.created");	/* 2 */
	publish(b, "order.refunded");	/* 3 */
	recorder orders = {.fail_id = -1, .hold_id = -1};
	recorder all = {.fail_id = 2, .hold_id = -1};
	ck_assert_int_eq(patron_bus_subscribe(b, "orders", "order.*", record, &orders, &err), 0);
	ck_assert_int_eq(patron_bus_subscribe(b, "all", "*", record, &all, &err), 0);
	ck_assert_int_eq(patron_bus_subscribe(b, "all", "x", record, &all, &err), -1);
	patron_bus_stats st;
	ck_assert_int_eq(patron_bus_deliver(b, TEST_NOW, &st, &err), 0);
	ck_assert_str_eq(orders.seen, "1,3");
	ck_assert_str_eq(all.seen, "1,2,3");	/* its failure on 2 did not stop it */
	ck_assert_int_eq(st.delivered, 5);
	ck_assert_int_eq(st.failed, 1);
	ck_assert_str_eq(sql_text(s, "SELECT subscriber || ' ' || event_id || ' ' || error FROM "
				  "bus_failures"), "all 2 cannot handle 2");
	ck_assert_int_eq(patron_bus_cursor(b, "orders"), 3);
	patron_bus_free(b);

	/* A new bus on the same store: nothing twice, only what is new. */
	b = patron_bus_new(s);
	publish(b, "order.created");	/* 4 */
	memset(orders.seen, 0, sizeof orders.seen);
	ck_assert_int_eq(patron_bus_subscribe(b, "orders", "order.*", record, &orders, &err), 0);
	ck_assert_int_eq(patron_bus_deliver(b, TEST_NOW, &st, &err), 0);
	ck_assert_str_eq(orders.seen, "4");
	patron_bus_free(b);
	patron_store_close(s);
	scratch_free();
}
END_TEST

START_TEST(a_held_subscriber_gets_the_event_again)
{
	patron_store *s = test_store();
	patron_bus *b = patron_bus_new(s);
	patron_err err;
	publish(b, "ping");
	publish(b, "ping");
	publish(b, "ping");
	recorder r = {.fail_id = -1, .hold_id = 2};
	patron_bus_stats st;
	ck_assert_int_eq(patron_bus_subscribe(b, "r", "ping", record, &r, &err), 0);
	ck_assert_int_eq(patron_bus_deliver(b, TEST_NOW, &st, &err), 0);
	ck_assert_str_eq(r.seen, "1");
	ck_assert_int_eq(st.held, 1);
	ck_assert_int_eq(patron_bus_cursor(b, "r"), 1);
	r.hold_id = -1;
	ck_assert_int_eq(patron_bus_deliver(b, TEST_NOW, &st, &err), 0);
	ck_assert_str_eq(r.seen, "1,2,3");
	ck_assert_int_eq(patron_bus_cursor(b, "r"), 3);
	ck_assert_int_eq(patron_bus_publish(b, "Bad Topic", 0, NULL, 0, 0, &err), -1);
	ck_assert(strstr(err.msg, "topic \"Bad Topic\": expected") != NULL);
	patron_bus_free(b);
	patron_store_close(s);
	scratch_free();
}
END_TEST

Suite *suite_bus(void)
{
	Suite *s = suite_create("bus");
	TCase *tc = tcase_create("bus");
	tcase_add_test(tc, matches_topics_by_pattern);
	tcase_add_test(tc, delivers_in_order_once_with_a_durable_cursor);
	tcase_add_test(tc, a_held_subscriber_gets_the_event_again);
	suite_add_tcase(s, tc);
	return s;
}
