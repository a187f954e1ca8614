#include "gen.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../core/value.h"

/* xoshiro256** (Blackman and Vigna), seeded through splitmix64. */
typedef struct {
	uint64_t s[4];
} rng;

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static void rng_seed(rng *r, uint64_t seed)
{
	for (int i = 0; i < 4; i++)
		r->s[i] = splitmix64(&seed);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static uint64_t next_u64(rng *r)
{
	uint64_t *s = r->s, out = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return out;
}

/* Uniform in (0, 1): never 0, so logarithms stay finite. */
static double uniform(rng *r) { return ((double)(next_u64(r) >> 11) + 0.5) / 9007199254740992.0; }
static uint64_t below(rng *r, uint64_t n) { return (uint64_t)(uniform(r) * (double)n); }
static double expo(rng *r, double mean) { return -mean * log(uniform(r)); }

static double normal(rng *r)
{
	return sqrt(-2.0 * log(uniform(r))) * cos(2.0 * M_PI * uniform(r));
}

/* Gamma(shape k, scale 1) by Marsaglia and Tsang; k < 1 through the
 * boost Gamma(k) = Gamma(k + 1) * U^(1/k). */
static double gamma_draw(rng *r, double k)
{
	if (k < 1.0)
		return gamma_draw(r, k + 1.0) * pow(uniform(r), 1.0 / k);
	double d = k - 1.0 / 3.0, c = 1.0 / sqrt(9.0 * d);
	for (;;) {
		double x = normal(r), v = 1.0 + c * x;
		if (v <= 0)
			continue;
		v = v * v * v;
		double u = uniform(r);
		if (log(u) < 0.5 * x * x + d - d * v + d * log(v))
			return d * v;
	}
}

static double beta_draw(rng *r, double a, double b)
{
	double x = gamma_draw(r, a), y = gamma_draw(r, b);
	return x / (x + y);
}

static unsigned poisson(rng *r, double mean)
{
	double l = exp(-mean), p = 1.0;
	unsigned k = 0;
	do {
		k++;
		p *= uniform(r);
	} while (p > l);
	return k - 1;
}

/* Picks an index from a cumulative weight table by bisection. */
static size_t pick(rng *r, const double *cdf, size_t n)
{
	double u = uniform(r) * cdf[n - 1];
	size_t lo = 0, hi = n - 1;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (cdf[mid] < u)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static const char *const first_names[] = {
	"Ada", "Alan", "Grace", "Linus", "Margaret", "Dennis", "Barbara", "Ken", "Frances",
	"Edsger", "Radia", "Donald", "Sophie", "Tim", "Katherine", "John", "Hedy", "Niklaus",
	"Lynn", "Bjarne", "Shafi", "Leslie", "Mary", "Guido", "Anita", "James", "Adele",
	"Robin", "Carol", "Brian", "Joan", "Yukihiro", "Evelyn", "Rob", "Karen", "Larry",
	"Sarah", "Ward", "Marissa", "Andrew", "Jean", "Peter", "Irene", "Paul", "Emma",
	"Omar", "Lucia", "Mateo", "Ingrid", "Kofi", "Amara", "Yuki", "Priya", "Chen",
};
static const char *const last_names[] = {
	"Lovelace", "Turing", "Hopper", "Torvalds", "Hamilton", "Ritchie", "Liskov",
	"Thompson", "Allen", "Dijkstra", "Perlman", "Knuth", "Wilson", "Berners-Lee",
	"Johnson", "Backus", "Lamarr", "Wirth", "Conway", "Stroustrup", "Goldwasser",
	"Lamport", "Kenyon", "Rossum", "Borg", "Gosling", "Goldberg", "Milner", "Shaw",
	"Kernighan", "Clarke", "Matsumoto", "Berezin", "Pike", "Jones", "Page", "Flanagan",
	"Cunningham", "Mayer", "Tanenbaum", "Bartik", "Naur", "Greif", "Baran", "Okafor",
	"Haddad", "Garcia", "Lindqvist", "Mensah", "Nwosu", "Tanaka", "Sharma", "Wei",
};
static const struct {
	const char *code;
	double weight;
} countries[] = {
	{"US", 38}, {"GB", 14}, {"DE", 10}, {"FR", 8}, {"CA", 7}, {"AU", 5},
	{"NL", 5}, {"ES", 5}, {"IT", 4}, {"SE", 2}, {"IE", 2},
};
static const struct {
	const char *name;
	double weight;
} channels[] = {
	{"organic", 35}, {"paid_search", 20}, {"social", 20}, {"email", 15}, {"referral", 10},
};
static const struct {
	const char *name;
	double price;	/* typical price in the category */
	const char *nouns[6];
} categories[] = {
	{"coffee", 14, {"Espresso Beans", "Filter Roast", "Decaf Blend", "Cold Brew Pack",
			"Single Origin", "House Blend"}},
	{"tea", 11, {"Green Tea", "Earl Grey", "Chai Mix", "Oolong", "Rooibos", "Matcha"}},
	{"brewing", 45, {"Pour-over Kit", "French Press", "Grinder", "Kettle", "Scale",
			 "Filter Papers"}},
	{"mugs", 18, {"Stoneware Mug", "Travel Cup", "Espresso Cup", "Glass Mug",
		      "Enamel Mug", "Tumbler"}},
	{"snacks", 7, {"Shortbread", "Almond Biscotti", "Dark Chocolate", "Granola",
		       "Oat Cookies", "Honey Bar"}},
	{"gifts", 35, {"Gift Box", "Tasting Set", "Gift Card", "Subscription Box",
		       "Advent Box", "Sampler"}},
};
static const char *const adjectives[] = {
	"Classic", "Bold", "Smooth", "Organic", "Morning", "Midnight", "Golden", "Highland",
	"Velvet", "Rustic", "Bright", "Deep",
};

/* Feedback text by rating, with %s for a product name. */
static const char *const praise[] = {
	"Love the %s, will order again!", "The %s arrived fast and tastes great.",
	"Excellent %s, thank you!", "Really happy with the %s.",
	"Great quality %s and lovely packaging.",
};
static const char *const meh[] = {
	"The %s is fine, nothing special.", "%s was ok but delivery took a while.",
	"Decent %s, a bit pricey.",
};
static const char *const complaints[] = {
	"The %s arrived damaged, please refund.", "Very disappointed with the %s.",
	"Where is my order? The %s never came.", "The %s tasted stale, not buying again.",
	"Wrong item sent instead of the %s, how do I return it?",
};

#define NCAT (sizeof categories / sizeof *categories)
#define DAY 86400

typedef struct {
	double *cdf;		/* popularity of all products */
	double *cat_cdf[NCAT];	/* popularity within each category */
	size_t *cat_members[NCAT], cat_n[NCAT];
	char (*name)[48];
	int64_t *price;
	size_t n;
} catalogue;

static void civil(int64_t t, char *buf, size_t cap, int with_time)
{
	char tmp[24];
	snprintf(buf, cap, "%s", with_time && t % DAY ? patron_format_date(t, tmp)
						      : patron_format_day(t, tmp));
}

static FILE *open_out(const char *dir, const char *name, char *err, int err_max)
{
	char path[4096];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	if (!f)
		snprintf(err, (size_t)err_max, "%s: cannot write: %s", path, strerror(errno));
	else
		setvbuf(f, NULL, _IOFBF, 1 << 20);
	return f;
}

static void catalogue_build(catalogue *c, rng *r, size_t n, FILE *out)
{
	c->n = n;
	c->cdf = malloc(n * sizeof *c->cdf);
	c->name = malloc(n * sizeof *c->name);
	c->price = malloc(n * sizeof *c->price);
	for (size_t k = 0; k < NCAT; k++) {
		c->cat_cdf[k] = malloc(n * sizeof(double));
		c->cat_members[k] = malloc(n * sizeof(size_t));
		c->cat_n[k] = 0;
	}
	fputs("sku,name,category,price\n", out);
	double total = 0;
	for (size_t i = 0; i < n; i++) {
		size_t cat = below(r, NCAT);
		/* Zipf popularity: the i-th product sells about 1/(i+1)^1.1 as well
		 * as the first. */
		double w = 1.0 / pow((double)(i + 1), 1.1);
		total += w;
		c->cdf[i] = total;
		size_t m = c->cat_n[cat]++;
		c->cat_members[cat][m] = i;
		c->cat_cdf[cat][m] = (m ? c->cat_cdf[cat][m - 1] : 0) + w;
		snprintf(c->name[i], sizeof c->name[i], "%s %s",
			 adjectives[below(r, sizeof adjectives / sizeof *adjectives)],
			 categories[cat].nouns[below(r, 6)]);
		double price = categories[cat].price * exp(0.35 * normal(r));
		c->price[i] = (int64_t)(price * 100) / 50 * 50 + 49;	/* x.49 and x.99 */
		fprintf(out, "SKU-%05zu,%s,%s,%lld.%02lld\n", i + 1, c->name[i], categories[cat].name,
			(long long)(c->price[i] / 100), (long long)(c->price[i] % 100));
	}
}

static void catalogue_free(catalogue *c)
{
	free(c->cdf);
	free(c->name);
	free(c->price);
	for (size_t k = 0; k < NCAT; k++) {
		free(c->cat_cdf[k]);
		free(c->cat_members[k]);
	}
}

typedef struct {
	double rate;		/* orders a year while active */
	double dropout;		/* chance of leaving after each order */
	size_t fav;		/* favourite category */
	double mood;		/* how happy they are, for feedback ratings */
	int64_t signup;
	int buys;
} customer;

static void customer_draw(customer *cu, rng *r, int64_t start, int64_t end, double scale)
{
	/* More customers joined recently: a growing shop. */
	double u = sqrt(uniform(r));
	cu->signup = start + (int64_t)(u * (double)(end - start - DAY));
	/* Scaling a shop up makes its customers buy more often and stay longer. */
	cu->rate = gamma_draw(r, 0.9) * 3.0 * scale;
	cu->dropout = beta_draw(r, 1.2, 4.0) / sqrt(scale);
	if (cu->dropout > 1.0)
		cu->dropout = 1.0;
	cu->fav = below(r, NCAT);
	cu->mood = normal(r);
	cu->buys = uniform(r) < 0.85;
}

/* Simulates one customer's orders; with OUT NULL only counts lines. */
static uint64_t customer_orders(const customer *cu, rng *r, const catalogue *cat, int64_t end,
				const char *email, uint64_t *order_no, FILE *out, FILE *fb,
				patron_gen_stats *st)
{
	uint64_t lines = 0;
	if (!cu->buys)
		return 0;
	double t = (double)cu->signup + expo(r, 3.0 * DAY);
	while (t < (double)end) {
		int64_t when = (int64_t)t;
		unsigned n = 1 + poisson(r, 0.7);
		if (n > 8)
			n = 8;
		double roll = uniform(r);
		const char *status = roll < 0.015 ? "refunded" : roll < 0.03 ? "failed" : "paid";
		char date[32];
		civil(when, date, sizeof date, 1);
		(*order_no)++;
		size_t first_product = 0;
		for (unsigned k = 0; k < n; k++) {
			size_t p;
			if (uniform(r) < 0.45 && cat->cat_n[cu->fav]) {
				size_t m = pick(r, cat->cat_cdf[cu->fav], cat->cat_n[cu->fav]);
				p = cat->cat_members[cu->fav][m];
			} else {
				p = pick(r, cat->cdf, cat->n);
			}
			if (k == 0)
				first_product = p;
			double q = uniform(r);
			int qty = q < 0.8 ? 1 : q < 0.95 ? 2 : 3;
			int64_t price = cat->price[p];
			if (uniform(r) < 0.1)
				price = price * 85 / 100;	/* a discount */
			if (out)
				fprintf(out, "%llu,%s,%s,SKU-%05zu,%s,%d,%lld.%02lld,usd,%s\n",
					(unsigned long long)(100000 + *order_no), email, date, p + 1,
					cat->name[p], qty, (long long)(price / 100),
					(long long)(price % 100), status);
			lines++;
		}
		if (out)
			st->orders++;
		if (fb && uniform(r) < 0.08) {
			double score = 3.6 + cu->mood - 3.0 * cu->dropout + 0.6 * normal(r);
			int rating = score < 1.5 ? 1 : score < 2.5 ? 2 : score < 3.5 ? 3 : score < 4.3 ? 4 : 5;
			const char *const *pool = rating >= 4 ? praise : rating == 3 ? meh : complaints;
			size_t npool = rating >= 4 ? 5 : rating == 3 ? 3 : 5;
			char text[160];
			snprintf(text, sizeof text, pool[below(r, npool)], cat->name[first_product]);
			civil(when + (int64_t)expo(r, 4.0 * DAY), date, sizeof date, 1);
			fprintf(fb, "%s,%s,%d,\"%s\"\n", email, date, rating, text);
			st->feedback++;
		}
		if (uniform(r) < cu->dropout)
			break;	/* lapsed: never orders again */
		t += expo(r, 365.0 * DAY / cu->rate);
	}
	return lines;
}

int patron_gen(const patron_gen_opts *o, patron_gen_stats *st, char *err, int err_max)
{
	memset(st, 0, sizeof *st);
	/* The history ends at END itself: nothing happens after "now". */
	int64_t end = o->end, start = end - 3 * 365 * (int64_t)DAY;
	size_t nproducts = o->products ? o->products : (size_t)(o->customers / 25);
	if (nproducts < 40)
		nproducts = 40;
	if (nproducts > 5000 && !o->products)
		nproducts = 5000;

	FILE *fp = open_out(o->dir, "products.csv", err, err_max), *fc = NULL, *fo = NULL,
	     *ff = NULL;
	if (!fp)
		return -1;
	rng r;
	rng_seed(&r, o->seed);
	catalogue cat;
	catalogue_build(&cat, &r, nproducts, fp);
	st->products = nproducts;

	/* Scale buying so the shop has about the asked number of lines: lines
	 * per customer grow with the scale, so bisect it on a sample. */
	double scale = 1.0;
	if (o->lines && o->customers) {
		double want = (double)o->lines / (double)o->customers, lo = 0.01, hi = 100.0;
		uint64_t sample = o->customers < 5000 ? o->customers : 5000;
		for (int it = 0; it < 30; it++) {
			scale = sqrt(lo * hi);
			rng cal;
			rng_seed(&cal, o->seed ^ 0xca1b);
			uint64_t lines = 0, no = 0;
			for (uint64_t i = 0; i < sample; i++) {
				customer cu;
				customer_draw(&cu, &cal, start, end, scale);
				lines += customer_orders(&cu, &cal, &cat, end, "", &no, NULL, NULL, st);
			}
			if ((double)lines / (double)sample < want)
				lo = scale;
			else
				hi = scale;
		}
	}

	fc = open_out(o->dir, "customers.csv", err, err_max);
	fo = fc ? open_out(o->dir, "orders.csv", err, err_max) : NULL;
	ff = fo ? open_out(o->dir, "feedback.csv", err, err_max) : NULL;
	int rc = -1;
	if (!ff)
		goto out;
	fputs("customer_id,email,first_name,last_name,country,signup_date,birthday,channel,"
	      "accepts_marketing\n", fc);
	fputs("order_id,email,created_at,sku,product,quantity,price,currency,status\n", fo);
	fputs("email,created_at,rating,text\n", ff);
	double ccdf[16], chcdf[8], acc = 0;
	size_t ncountries = sizeof countries / sizeof *countries;
	size_t nchannels = sizeof channels / sizeof *channels;
	for (size_t i = 0; i < ncountries; i++)
		ccdf[i] = acc += countries[i].weight;
	acc = 0;
	for (size_t i = 0; i < nchannels; i++)
		chcdf[i] = acc += channels[i].weight;
	uint64_t order_no = 0;
	for (uint64_t i = 0; i < o->customers; i++) {
		customer cu;
		customer_draw(&cu, &r, start, end, scale);
		const char *fn = first_names[below(&r, sizeof first_names / sizeof *first_names)];
		const char *ln = last_names[below(&r, sizeof last_names / sizeof *last_names)];
		char email[160], shown[160], signup[32], birthday[32];
		snprintf(email, sizeof email, "%s.%s.%llu@example.com", fn, ln,
			 (unsigned long long)(i + 1));
		for (char *c = email; *c; c++)
			if (*c >= 'A' && *c <= 'Z')
				*c = (char)(*c - 'A' + 'a');
		/* Some shops' customer lists keep the case people typed; orders
		 * have it lower-cased. Patron must see one person. */
		snprintf(shown, sizeof shown, "%s", email);
		if (uniform(&r) < 0.05)
			snprintf(shown, sizeof shown, "%s.%s.%llu@Example.com", fn, ln,
				 (unsigned long long)(i + 1));
		civil(cu.signup, signup, sizeof signup, 0);
		int64_t born = (int64_t)(-20.0 * 365 * DAY + uniform(&r) * 55.0 * 365 * DAY);
		civil(born, birthday, sizeof birthday, 0);
		fprintf(fc, "C%07llu,%s,%s,%s,%s,%s,%s,%s,%s\n", (unsigned long long)(i + 1), shown,
			fn, ln, countries[pick(&r, ccdf, ncountries)].code, signup, birthday,
			channels[pick(&r, chcdf, nchannels)].name, uniform(&r) < 0.62 ? "yes" : "no");
		st->lines += customer_orders(&cu, &r, &cat, end, email, &order_no, fo, ff, st);
	}
	st->customers = o->customers;
	rc = 0;
out:
	catalogue_free(&cat);
	FILE *files[] = {fp, fc, fo, ff};
	for (int i = 0; i < 4; i++) {
		if (files[i] && fclose(files[i]) != 0 && rc == 0) {
			snprintf(err, (size_t)err_max, "%s: cannot write: %s", o->dir, strerror(errno));
			rc = -1;
		}
	}
	return rc;
}
