/* patron-gen: writes the demo shop (or the benchmark's large one) as CSV.
 * scripts/gen-data.sh is the wrapper people call. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "../../core/value.h"
#include "gen.h"

static void usage(FILE *f)
{
	fputs("usage: patron-gen --out DIR [--customers N] [--lines N] [--products N]\n"
	      "                  [--seed N] [--end YYYY-MM-DD]\n"
	      "Writes customers.csv, products.csv, orders.csv and feedback.csv into DIR.\n"
	      "The same options give the same files. Defaults: 5000 customers, the lines\n"
	      "they buy, seed 1, history ending today.\n", f);
}

static int number(const char *opt, const char *v, uint64_t *out)
{
	char *end;
	unsigned long long n = strtoull(v, &end, 10);
	if (!*v || *end || v[0] == '-') {
		fprintf(stderr, "patron-gen: %s: expected a whole number, got \"%s\"\n", opt, v);
		return -1;
	}
	*out = n;
	return 0;
}

int main(int argc, char **argv)
{
	patron_gen_opts o = {.customers = 5000, .seed = 1, .end = (int64_t)time(NULL)};
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			usage(stdout);
			return 0;
		}
		if (!v) {
			fprintf(stderr, "patron-gen: %s needs a value\n", a);
			return 2;
		}
		i++;
		if (strcmp(a, "--out") == 0) {
			o.dir = v;
		} else if (strcmp(a, "--end") == 0) {
			if (patron_parse_date(v, PATRON_DATE_MDY, &o.end) < 0) {
				fprintf(stderr, "patron-gen: --end: expected YYYY-MM-DD, got \"%s\"\n", v);
				return 2;
			}
		} else if ((strcmp(a, "--customers") == 0 && number(a, v, &o.customers) < 0) ||
			   (strcmp(a, "--lines") == 0 && number(a, v, &o.lines) < 0) ||
			   (strcmp(a, "--products") == 0 && number(a, v, &o.products) < 0) ||
			   (strcmp(a, "--seed") == 0 && number(a, v, &o.seed) < 0)) {
			return 2;
		} else if (strcmp(a, "--customers") && strcmp(a, "--lines") &&
			   strcmp(a, "--products") && strcmp(a, "--seed")) {
			fprintf(stderr, "patron-gen: unknown option \"%s\"\n", a);
			usage(stderr);
			return 2;
		}
	}
	if (!o.dir) {
		usage(stderr);
		return 2;
	}
	mkdir(o.dir, 0777);
	patron_gen_stats st;
	char err[512];
	if (patron_gen(&o, &st, err, sizeof err) < 0) {
		fprintf(stderr, "patron-gen: %s\n", err);
		return 1;
	}
	printf("%s: %llu customers, %llu products, %llu orders (%llu lines), %llu feedback\n",
	       o.dir, (unsigned long long)st.customers, (unsigned long long)st.products,
	       (unsigned long long)st.orders, (unsigned long long)st.lines,
	       (unsigned long long)st.feedback);
	return 0;
}
