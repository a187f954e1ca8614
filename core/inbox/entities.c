/* Entities of a customer's message: orders, tracking numbers, amounts,
 * dates and products. */
#define _GNU_SOURCE	/* strcasestr */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "entities.h"
#include "../value.h"

#define CATALOGUE_MAX 20000	/* products matched by name; beyond, by SKU only */

/* A key a product is found by: its SKU, or the first word of its name. */
typedef struct {
	const char *key;	/* into sku[] or name[] */
	size_t len;
	size_t product;
	int by_name;
} lookup;

struct patron_catalogue {
	int64_t *id;
	char **sku, **name;	/* lower-cased */
	char **shown;		/* the SKU as written, or the name */
	size_t n;
	lookup *keys;		/* sorted by key, so a message's words are looked up */
	size_t nkeys;
};

static int by_key(const void *a, const void *b)
{
	const lookup *x = a, *y = b;
	size_t n = x->len < y->len ? x->len : y->len;
	int c = memcmp(x->key, y->key, n);
	return c ? c : x->len < y->len ? -1 : x->len > y->len;
}

/* The length of the first word of S (letters, digits, UTF-8). */
static size_t first_word(const char *s)
{
	size_t k = 0;
	while (s[k] && (isalnum((unsigned char)s[k]) || ((unsigned char)s[k] & 0x80)))
		k++;
	return k;
}

static char *lower_dup(const char *s)
{
	char *d = patron_xstrdup(s ? s : "");
	for (char *p = d; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	return d;
}

patron_catalogue *patron_catalogue_load(patron_store *s)
{
	patron_catalogue *c = patron_xcalloc(1, sizeof *c);
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(patron_store_db(s), "SELECT id, sku, name FROM products ORDER BY id"
			       " LIMIT ?1", -1, &st, NULL) != SQLITE_OK)
		return c;
	sqlite3_bind_int(st, 1, CATALOGUE_MAX);
	size_t cap = 0;
	while (sqlite3_step(st) == SQLITE_ROW) {
		if (c->n == cap) {
			cap = cap ? 2 * cap : 64;
			c->id = patron_xrealloc(c->id, cap * sizeof *c->id);
			c->sku = patron_xrealloc(c->sku, cap * sizeof *c->sku);
			c->name = patron_xrealloc(c->name, cap * sizeof *c->name);
			c->shown = patron_xrealloc(c->shown, cap * sizeof *c->shown);
		}
		const char *sku = (const char *)sqlite3_column_text(st, 1);
		const char *name = (const char *)sqlite3_column_text(st, 2);
		c->shown[c->n] = patron_xstrdup(sku && *sku ? sku : name ? name : "");
		c->id[c->n] = sqlite3_column_int64(st, 0);
		c->sku[c->n] = lower_dup((const char *)sqlite3_column_text(st, 1));
		c->name[c->n++] = lower_dup((const char *)sqlite3_column_text(st, 2));
	}
	sqlite3_finalize(st);
	c->keys = patron_xcalloc(2 * c->n + 1, sizeof *c->keys);
	for (size_t i = 0; i < c->n; i++) {
		if (*c->sku[i])
			c->keys[c->nkeys++] = (lookup){c->sku[i], strlen(c->sku[i]), i, 0};
		size_t fw = first_word(c->name[i]);
		if (strlen(c->name[i]) >= 4 && fw)
			c->keys[c->nkeys++] = (lookup){c->name[i], fw, i, 1};
	}
	if (c->nkeys)
		qsort(c->keys, c->nkeys, sizeof *c->keys, by_key);
	return c;
}

void patron_catalogue_free(patron_catalogue *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->n; i++) {
		free(c->sku[i]);
		free(c->name[i]);
		free(c->shown[i]);
	}
	free(c->shown);
	free(c->keys);
	free(c->id);
	free(c->sku);
	free(c->name);
	free(c);
}

/* ---- the words of the text ---- */

typedef struct {
	const char *s;	/* into the text */
	size_t len;
} word;

/* Runs of letters, digits and the joiners a number or code may hold
 * ('-', '_', '.', ',', '/', '#' inside or '#' in front), at most 256. */
static size_t words_of(const char *t, word *w, size_t cap)
{
	size_t n = 0;
	for (const char *p = t; *p && n < cap;) {
		if (!isalnum((unsigned char)*p) && *p != '#' && !((unsigned char)*p & 0x80)) {
			p++;
			continue;
		}
		const char *start = p++;
		while (*p && (isalnum((unsigned char)*p) || ((unsigned char)*p & 0x80) ||
			      ((*p == '-' || *p == '_' || *p == '.' || *p == ',' || *p == '/') &&
			       isalnum((unsigned char)p[1]))))
			p++;
		w[n++] = (word){start, (size_t)(p - start)};
	}
	return n;
}

static int is(const word *w, const char *lit)
{
	size_t n = strlen(lit);
	return w->len == n && strncasecmp(w->s, lit, n) == 0;
}

static int digits_in(const word *w)
{
	int d = 0;
	for (size_t i = 0; i < w->len; i++)
		d += isdigit((unsigned char)w->s[i]) != 0;
	return d;
}

static int all_digits(const word *w)
{
	return w->len && (size_t)digits_in(w) == w->len;
}

static void add(patron_entity *out, size_t *n, size_t cap, const char *kind, const char *value,
		int64_t id)
{
	for (size_t i = 0; i < *n; i++)
		if (strcmp(out[i].kind, kind) == 0 && strcmp(out[i].value, value) == 0)
			return;
	if (*n >= cap)
		return;
	out[*n].kind = kind;
	snprintf(out[*n].value, sizeof out[*n].value, "%s", value);
	out[*n].id = id;
	(*n)++;
}

/* The sender's order whose key is KEY, "#"KEY, or KEY without its '#'. */
static int64_t find_order(patron_store *s, int64_t cid, const char *key)
{
	if (!cid)
		return 0;
	sqlite3_stmt *st;
	int64_t id = 0;
	if (sqlite3_prepare_v2(patron_store_db(s), "SELECT id FROM orders WHERE customer_id = ?1 AND"
			       " order_key IN (?2, '#' || ?2, ltrim(?2, '#')) ORDER BY placed_at DESC"
			       " LIMIT 1", -1, &st, NULL) != SQLITE_OK)
		return 0;
	sqlite3_bind_int64(st, 1, cid);
	sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		id = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return id;
}

static int month_named(const word *w)
{
	static const char *const m[] = {"jan", "feb", "mar", "apr", "may", "jun",
					"jul", "aug", "sep", "oct", "nov", "dec"};
	static const char *const full[] = {"january", "february", "march", "april", "may",
					   "june", "july", "august", "september", "october",
					   "november", "december"};
	for (int i = 0; i < 12; i++)
		if ((w->len == 3 && strncasecmp(w->s, m[i], 3) == 0) ||
		    (w->len == strlen(full[i]) && strncasecmp(w->s, full[i], w->len) == 0) ||
		    (w->len == 4 && i == 8 && strncasecmp(w->s, "sept", 4) == 0))
			return i + 1;
	return 0;
}

/* "28", "28th", "1st": the day, or 0. */
static int day_of(const word *w)
{
	size_t k = 0;
	int d = 0;
	while (k < w->len && k < 2 && isdigit((unsigned char)w->s[k]))
		d = d * 10 + (w->s[k++] - '0');
	if (!k || (k < w->len && !(w->len - k == 2 && isalpha((unsigned char)w->s[k]))))
		return 0;
	return d >= 1 && d <= 31 ? d : 0;
}

static void add_date(patron_entity *out, size_t *n, size_t cap, int y, int m, int d, int64_t now)
{
	if (!y) {	/* the latest such day not after now */
		int ny, nm, nd;
		patron_civil_from_days(patron_day_number(now), &ny, &nm, &nd);
		y = (m > nm || (m == nm && d > nd)) ? ny - 1 : ny;
	}
	int64_t day = patron_days_from_civil(y, m, d);
	int cy, cm, cd;
	patron_civil_from_days(day, &cy, &cm, &cd);
	if (cy != y || cm != m || cd != d)
		return;	/* 31 November */
	char v[16];
	snprintf(v, sizeof v, "%04d-%02d-%02d", y, m, d);
	add(out, n, cap, "date", v, 0);
}

static const char *currency_word(const word *w)
{
	static const struct {
		const char *word, *code;
	} names[] = {{"eur", "EUR"}, {"euro", "EUR"}, {"euros", "EUR"}, {"usd", "USD"},
		     {"dollar", "USD"}, {"dollars", "USD"}, {"gbp", "GBP"}, {"pound", "GBP"},
		     {"pounds", "GBP"}, {"chf", "CHF"}, {"cad", "CAD"}, {"aud", "AUD"},
		     {"jpy", "JPY"}, {"yen", "JPY"}, {"sek", "SEK"}, {"nok", "NOK"},
		     {"dkk", "DKK"}, {"pln", "PLN"}};
	for (size_t i = 0; i < sizeof names / sizeof *names; i++)
		if (is(w, names[i].word))
			return names[i].code;
	return NULL;
}

/* The currency a symbol just before or after the number at [A, B) names. */
static const char *currency_symbol(const char *text, const char *a, const char *b)
{
	static const struct {
		const char *sym, *code;
	} syms[] = {{"$", "USD"}, {"€", "EUR"}, {"£", "GBP"}, {"¥", "JPY"}};
	for (size_t i = 0; i < sizeof syms / sizeof *syms; i++) {
		size_t k = strlen(syms[i].sym);
		const char *before = a;
		while (before > text && before[-1] == ' ')
			before--;
		if ((size_t)(before - text) >= k && memcmp(before - k, syms[i].sym, k) == 0)
			return syms[i].code;
		const char *after = b;
		while (*after == ' ')
			after++;
		if (strncmp(after, syms[i].sym, k) == 0)
			return syms[i].code;
	}
	return NULL;
}

static void add_amount(patron_entity *out, size_t *n, size_t cap, const word *w,
		       const char *code)
{
	char num[48];
	snprintf(num, sizeof num, "%.*s", (int)(w->len < 47 ? w->len : 47), w->s);
	/* "12,50": a decimal comma */
	char *comma = strrchr(num, ',');
	if (comma && strlen(comma + 1) == 2 && !strchr(num, '.'))
		*comma = '.';
	int64_t cents;
	if (patron_parse_money(num, &cents) < 0 || cents <= 0)
		return;
	char v[64];
	snprintf(v, sizeof v, "%lld.%02lld %s", (long long)(cents / 100), (long long)(cents % 100),
		 code);
	add(out, n, cap, "amount", v, 0);
}

static int tracking_form(const word *w, int spoken_of)
{
	char u[40];
	if (w->len < 10 || w->len > 30)
		return 0;
	for (size_t i = 0; i < w->len; i++) {
		if (!isalnum((unsigned char)w->s[i]))
			return 0;
		u[i] = (char)toupper((unsigned char)w->s[i]);
	}
	u[w->len] = 0;
	if (w->len == 18 && u[0] == '1' && u[1] == 'Z')
		return 1;	/* UPS */
	if (w->len == 13 && isalpha((unsigned char)u[0]) && isalpha((unsigned char)u[1]) &&
	    isalpha((unsigned char)u[11]) && isalpha((unsigned char)u[12])) {
		for (int i = 2; i < 11; i++)
			if (!isdigit((unsigned char)u[i]))
				return 0;
		return 1;	/* the UPU's S10, as most posts use */
	}
	if (all_digits(w) && w->len >= 20 && w->len <= 22)
		return 1;	/* USPS */
	return spoken_of && all_digits(w) && w->len <= 15;	/* DHL, FedEx, ... */
}

size_t patron_entities(patron_store *s, const patron_catalogue *cat, int64_t cid,
		       const char *text, int64_t now, patron_entity *out, size_t cap)
{
	word w[256];
	size_t nw = words_of(text ? text : "", w, 256), n = 0;
	int tracking = text && (strcasestr(text, "track") || strcasestr(text, "sendungsnummer"));
	for (size_t i = 0; i < nw; i++) {
		word *x = &w[i];
		char v[96];
		snprintf(v, sizeof v, "%.*s", (int)(x->len < 95 ? x->len : 95), x->s);
		/* orders: "#1042", "order 1042", "order no. 1042", ch_..., pi_... */
		if (x->s[0] == '#' && x->len >= 2 && x->len <= 24 && digits_in(x)) {
			add(out, &n, cap, "order", v, find_order(s, cid, v));
			continue;
		}
		if ((x->len > 3 && (strncmp(v, "ch_", 3) == 0 || strncmp(v, "pi_", 3) == 0 ||
				    strncmp(v, "py_", 3) == 0))) {
			add(out, &n, cap, "order", v, find_order(s, cid, v));
			continue;
		}
		if ((is(x, "order") || is(x, "orders") || is(x, "commande") || is(x, "bestellung") ||
		     is(x, "pedido") || is(x, "ordine")) && i + 1 < nw) {
			size_t k = i + 1;
			while (k < nw && k < i + 3 && (is(&w[k], "no") || is(&w[k], "number") ||
						       is(&w[k], "nr") || is(&w[k], "id") ||
						       is(&w[k], "num") || is(&w[k], "n")))
				k++;
			/* three digits at least: "order 2 mugs" names no order */
			if (k < nw && w[k].s[0] != '#' && digits_in(&w[k]) >= 3 && w[k].len <= 24) {
				char key[96];
				snprintf(key, sizeof key, "%.*s", (int)w[k].len, w[k].s);
				add(out, &n, cap, "order", key, find_order(s, cid, key));
			}
		}
		if (tracking_form(x, tracking)) {
			for (char *p = v; *p; p++)
				*p = (char)toupper((unsigned char)*p);
			add(out, &n, cap, "tracking", v, 0);
			continue;
		}
		/* amounts */
		if (digits_in(x) && (isdigit((unsigned char)x->s[0]))) {
			const char *code = currency_symbol(text, x->s, x->s + x->len);
			if (!code && i + 1 < nw && w[i + 1].s - (x->s + x->len) <= 1)
				code = currency_word(&w[i + 1]);
			if (!code && i > 0 && x->s - (w[i - 1].s + w[i - 1].len) <= 1)
				code = currency_word(&w[i - 1]);
			if (code) {
				add_amount(out, &n, cap, x, code);
				continue;
			}
		}
		/* dates: 2026-11-28; 28 November [2026]; Nov 28[th][, 2026] */
		int y, m, d;
		if (x->len == 10 && sscanf(v, "%4d-%2d-%2d", &y, &m, &d) == 3) {
			add_date(out, &n, cap, y, m, d, now);
			continue;
		}
		if ((m = month_named(x))) {
			int before = i > 0 ? day_of(&w[i - 1]) : 0;
			int after = i + 1 < nw ? day_of(&w[i + 1]) : 0;
			d = before ? before : after;
			size_t yi = before ? i + 1 : i + 2;
			y = 0;
			if (yi < nw && w[yi].len == 4 && all_digits(&w[yi]))
				y = atoi(w[yi].s);
			if (d)
				add_date(out, &n, cap, y, m, d, now);
		}
	}
	/* products: each word looked up among the SKUs and the names' first
	 * words; a name then matches as whole words of the text */
	if (cat && text && cat->nkeys) {
		char *low = lower_dup(text);
		for (size_t i = 0; i < nw && n < cap; i++) {
			const char *at = low + (w[i].s - text);
			size_t wl = w[i].s[0] == '#' ? 0 : w[i].len;
			size_t fw = first_word(at);
			for (int pass = 0; pass < 2; pass++) {	/* the whole word, its first part */
				lookup want = {at, pass ? fw : wl, 0, 0};
				if (!want.len || (pass && fw == wl))
					continue;
				size_t lo = 0, hi = cat->nkeys;
				while (lo < hi) {	/* the first key not below the word */
					size_t mid = (lo + hi) / 2;
					if (by_key(&cat->keys[mid], &want) < 0)
						lo = mid + 1;
					else
						hi = mid;
				}
				for (size_t k = lo; k < cat->nkeys && !by_key(&cat->keys[k], &want); k++) {
					const lookup *l = &cat->keys[k];
					const char *name = cat->name[l->product];
					size_t len = strlen(name);
					int hit = !l->by_name ? l->len == w[i].len
						  : strncmp(at, name, len) == 0 &&
						    !isalnum((unsigned char)at[len]);
					if (hit)
						add(out, &n, cap, "product", cat->shown[l->product],
						    cat->id[l->product]);
				}
			}
		}
		free(low);
	}
	return n;
}
