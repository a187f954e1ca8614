/* forecast.theta: the Theta method (theta.h) as a forecaster, an
 * alternative to Holt-Winters: forecast = "theta" in patron.conf. */
#include <stdio.h>
#include <stdlib.h>

#include <patron/plugin.h>

#include "theta.h"

static int init(const patron_host *h, patron_ctx *ctx, void **state)
{
	(void)ctx;
	*state = (void *)h;
	return 0;
}

static int forecast(void *state, patron_ctx *ctx, patron_forecast *f)
{
	const patron_host *h = state;
	theta_model *t = malloc(sizeof *t);
	if (!t)
		return h->fail(ctx, "out of memory"), -1;
	char err[256];
	if (theta_fit(f->y, f->n, f->season, t, err, sizeof err) < 0) {
		if (f->n < 4)	/* a young shop: said, and the forecast waits */
			h->not_ready(ctx, "%s", err);
		else
			h->fail(ctx, "%s", err);
		free(t);
		return -1;
	}
	for (size_t i = 0; i < f->horizon; i++) {
		f->mean[i] = theta_point(t, i + 1);
		theta_interval(t, i + 1, f->level, &f->lo[i], &f->hi[i]);
	}
	if (t->m)
		snprintf(f->method, sizeof f->method, "Theta, seasonally adjusted over %zu periods "
			 "(alpha %.3f, drift %.4g per period)", t->m, t->alpha, t->slope / 2);
	else
		snprintf(f->method, sizeof f->method, "Theta (alpha %.3f, drift %.4g per period)",
			 t->alpha, t->slope / 2);
	free(t);
	return 0;
}

static const char *const options[] = {NULL};

static const patron_plugin plugin = {
	PATRON_PLUGIN_ABI,
	.name = "forecast.theta",
	.kind = PATRON_KIND_FORECASTER,
	.version = "1.0",
	.description = "the Theta method: exponential smoothing with half the trend's drift",
	.init = init,
	.options = options,
	.forecast = forecast,
};

const patron_plugin *patron_plugin_entry(void) { return &plugin; }
