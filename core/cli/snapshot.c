/* patron snapshot: build the views plugins read, and describe them. */
#include <stdio.h>

#include "../snapshot.h"
#include "cli.h"

static int run(cli *c, int argc, char **argv)
{
	if (argc > 1)
		return cli_usage(&cmd_snapshot, "unexpected argument \"%s\"", argv[1]);
	patron_store *s = cli_store(c);
	if (!s)
		return EXIT_FAIL;
	patron_snapshot sn;
	patron_snapshot_init(&sn, s, c->now);
	patron_err err;
	double t0 = patron_clock();
	const patron_features *f = patron_snapshot_features(&sn, &err);
	double t1 = patron_clock();
	const patron_graph *g = f ? patron_snapshot_graph(&sn, &err) : NULL;
	double t2 = patron_clock();
	if (!f || !g) {
		patron_snapshot_free(&sn);
		return cli_fail(EXIT_FAIL, "%s", err.msg);
	}
	if (c->json) {
		json_t *names = json_array();
		for (size_t i = 0; i < f->cols; i++)
			json_array_append_new(names, json_string(f->names[i]));
		cli_print_json(json_pack("{s:{s:I, s:I, s:o, s:f}, s:{s:I, s:I, s:I, s:f}}",
			"features", "rows", (json_int_t)f->rows, "cols", (json_int_t)f->cols,
			"names", names, "seconds", t1 - t0, "graph", "rows", (json_int_t)g->rows,
			"products", (json_int_t)g->products, "nnz", (json_int_t)g->nnz, "seconds",
			t2 - t1));
	} else {
		printf("features: %zu customers x %zu columns in %.2f s\n ", f->rows, f->cols, t1 - t0);
		for (size_t i = 0; i < f->cols; i++)
			printf(" %s", f->names[i]);
		printf("\ngraph: %zu customers x %zu products, %zu interactions in %.2f s\n", g->rows,
		       g->products, g->nnz, t2 - t1);
	}
	patron_snapshot_free(&sn);
	return EXIT_OK;
}

const cli_command cmd_snapshot = {
	"snapshot", run, "build the feature matrix and graph plugins read, and describe them",
	"usage: patron snapshot [--now DATE] [--json]\n"
	"\n"
	"Builds, as of --now, the two views every plugin reads: the feature matrix (one\n"
	"row per customer; recency, frequency, spend, tenure, gaps, recent orders,\n"
	"numeric attributes and one-hot text attributes) and the customer x product\n"
	"graph; prints their shapes, column names and how long each took.\n",
};
