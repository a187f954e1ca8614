/* forecast.holtwinters: Holt-Winters exponential smoothing (hw.h) as a
 * forecaster. Options:
 *   seasonal = "auto"             -- or "additive", "multiplicative", "none"
 *   paths = 4000                  -- simulated paths behind the interval
 * "auto" fits the trend alone, the additive season and, when every value
 * is above zero, the multiplicative season, and keeps the one with the
 * lowest AICc; a series shorter than two seasons gets the trend alone. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <patron/plugin.h>

#include "hw.h"

typedef struct {
	const patron_host *h;
	char seasonal[16];
	size_t paths;
} state;

static int init(const patron_host *h, patron_ctx *ctx, void **out)
{
	state *s = calloc(1, sizeof *s);
	if (!s)
		return h->fail(ctx, "out of memory"), -1;
	s->h = h;
	const char *k = h->option_string(ctx, "seasonal");
	snprintf(s->seasonal, sizeof s->seasonal, "%s", k ? k : "auto");
	if (strcmp(s->seasonal, "auto") && strcmp(s->seasonal, "additive") &&
	    strcmp(s->seasonal, "multiplicative") && strcmp(s->seasonal, "none")) {
		h->fail(ctx, "seasonal = \"%s\": expected auto, additive, multiplicative or none",
			s->seasonal);
		free(s);
		return -1;
	}
	double paths = 4000;
	if (h->option_number(ctx, "paths", &paths) < 0 || paths < 100 || paths > 1e6) {
		h->fail(ctx, "paths: expected a number from 100 to 1000000");
		free(s);
		return -1;
	}
	s->paths = (size_t)paths;
	*out = s;
	return 0;
}

static const char *kind_name(hw_kind k)
{
	return k == HW_ADDITIVE ? "additive" : k == HW_MULTIPLICATIVE ? "multiplicative" : "none";
}

/* Akaike's criterion, corrected for small samples, of a fitted model
 * with Gaussian errors: the smoothing parameters and the starting level,
 * trend and seasonal terms (all but one, which the others fix) count. */
static double aicc(const hw_model *m)
{
	double n = (double)m->n;
	double k = (m->kind == HW_NONE ? 2 : 3) + 2 + (m->kind == HW_NONE ? 0 : (double)m->m - 1);
	if (n - k - 1 <= 0 || !(m->sse > 0))
		return m->sse > 0 ? INFINITY : -INFINITY;
	return n * log(m->sse / n) + 2 * k + 2 * k * (k + 1) / (n - k - 1);
}

static int forecast(void *p, patron_ctx *ctx, patron_forecast *f)
{
	state *s = p;
	const patron_host *h = s->h;
	hw_model best, mod;
	double best_score = INFINITY;
	char err[256] = "";
	int have = 0;
	hw_kind kinds[3];
	size_t nk = 0;
	int seasonal = f->season >= 2 && f->n >= 2 * f->season && strcmp(s->seasonal, "none");
	if (!seasonal) {
		if (strcmp(s->seasonal, "additive") == 0 || strcmp(s->seasonal, "multiplicative") == 0)
			h->log(ctx, PATRON_LOG_INFO, "%zu periods is less than two seasons of %zu: "
			       "fitting the trend alone", f->n, f->season);
		kinds[nk++] = HW_NONE;
	} else if (strcmp(s->seasonal, "additive") == 0) {
		kinds[nk++] = HW_ADDITIVE;
	} else if (strcmp(s->seasonal, "multiplicative") == 0) {
		kinds[nk++] = HW_MULTIPLICATIVE;
	} else {
		kinds[nk++] = HW_NONE;
		kinds[nk++] = HW_ADDITIVE;
		kinds[nk++] = HW_MULTIPLICATIVE;
	}
	for (size_t i = 0; i < nk; i++) {
		char why[256];
		if (hw_fit(f->y, f->n, kinds[i], f->season, &mod, why, sizeof why) < 0) {
			if (!err[0])
				snprintf(err, sizeof err, "%s", why);
			continue;
		}
		/* The forms differ in how many states they start from (a season
		 * adds one per period), so they are compared by AICc, which
		 * charges for each, not by their errors alone. */
		double score = aicc(&mod);
		if (!have || score < best_score) {
			best = mod;
			best_score = score;
		}
		have = 1;
	}
	if (!have) {
		if (f->n < 4)	/* a young shop: said, and the forecast waits */
			h->not_ready(ctx, "%s", err);
		else
			h->fail(ctx, "%s", err);
		return -1;
	}
	hw_forecast(&best, f->horizon, f->level, s->paths, 20261130, f->mean, f->lo, f->hi);
	if (best.kind == HW_NONE)
		snprintf(f->method, sizeof f->method, "Holt's linear trend (alpha %.3f, beta %.3f)",
			 best.alpha, best.beta);
	else
		snprintf(f->method, sizeof f->method, "Holt-Winters, %s season of %zu periods "
			 "(alpha %.3f, beta %.3f, gamma %.3f)", kind_name(best.kind), best.m,
			 best.alpha, best.beta, best.gamma);
	return 0;
}

static void destroy(void *p) { free(p); }

static const char *const options[] = {"seasonal", "paths", NULL};

static const patron_plugin plugin = {
	PATRON_PLUGIN_ABI,
	.name = "forecast.holtwinters",
	.kind = PATRON_KIND_FORECASTER,
	.version = "1.0",
	.description = "Holt-Winters exponential smoothing, additive or multiplicative season",
	.init = init,
	.free = destroy,
	.options = options,
	.forecast = forecast,
};

const patron_plugin *patron_plugin_entry(void) { return &plugin; }
