#include "nb.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void nb_free(nb_model *m)
{
	for (int c = 0; c < 2; c++) {
		free(m->mean[c]), free(m->var[c]);
		for (size_t v = 0; m->logp[c] && v < m->vars; v++)
			free(m->logp[c][v]);
		free(m->logp[c]);
	}
	free(m->var_of), free(m->kind), free(m->levels), free(m->first);
	memset(m, 0, sizeof *m);
}

/* "attr.X=V": the length of "attr.X=", else 0. */
static size_t group_prefix(const char *name)
{
	const char *eq = strchr(name, '=');
	size_t len = strlen(name);
	if (!eq || (len > 10 && strcmp(name + len - 10, " (missing)") == 0))
		return 0;
	return (size_t)(eq - name) + 1;
}

static int is_indicator(const char *name)
{
	size_t len = strlen(name);
	return len > 10 && strcmp(name + len - 10, " (missing)") == 0;
}

/* Variables from the names: runs of one "attr.X=" prefix are one variable. */
static int variables(nb_model *m, const char *const *names, size_t cols)
{
	m->cols = cols;
	m->var_of = malloc((cols ? cols : 1) * sizeof *m->var_of);
	m->kind = malloc((cols ? cols : 1) * sizeof *m->kind);
	m->levels = malloc((cols ? cols : 1) * sizeof *m->levels);
	m->first = malloc((cols ? cols : 1) * sizeof *m->first);
	if (!m->var_of || !m->kind || !m->levels || !m->first)
		return -1;
	m->vars = 0;
	for (size_t c = 0; c < cols; c++) {
		size_t p = group_prefix(names[c]);
		if (p && c > 0 && m->kind[m->vars - 1] == 1 && group_prefix(names[c - 1]) == p &&
		    strncmp(names[c - 1], names[c], p) == 0) {
			m->var_of[c] = (int)(m->vars - 1);
			m->levels[m->vars - 1]++;
			continue;
		}
		m->var_of[c] = (int)m->vars;
		m->first[m->vars] = c;
		if (p) {
			m->kind[m->vars] = 1;
			m->levels[m->vars] = 2;	/* this value, and none */
		} else if (is_indicator(names[c])) {
			m->kind[m->vars] = 1;	/* yes/no: levels "1" and "0" (none) */
			m->levels[m->vars] = 2;
		} else {
			m->kind[m->vars] = 0;
			m->levels[m->vars] = 0;
		}
		m->vars++;
	}
	return 0;
}

size_t nb_level(const nb_model *m, size_t v, const double *x)
{
	size_t f = m->first[v], k = m->levels[v] - 1;
	for (size_t j = 0; j < k; j++)
		if (x[f + j] > 0.5)
			return j;
	return k;
}

int nb_init(nb_model *m, const char *const *names, size_t cols)
{
	memset(m, 0, sizeof *m);
	if (variables(m, names, cols) < 0)
		goto oom;
	for (int c = 0; c < 2; c++) {
		m->mean[c] = calloc(cols ? cols : 1, sizeof *m->mean[c]);
		m->var[c] = calloc(cols ? cols : 1, sizeof *m->var[c]);
		m->logp[c] = calloc(m->vars ? m->vars : 1, sizeof *m->logp[c]);
		if (!m->mean[c] || !m->var[c] || !m->logp[c])
			goto oom;
		for (size_t v = 0; v < m->vars; v++)
			if (m->kind[v] == 1 && !(m->logp[c][v] = calloc(m->levels[v], sizeof(double))))
				goto oom;
	}
	return 0;
oom:
	nb_free(m);
	return -1;
}

int nb_fit(const double *x, size_t cols, const char *const *names, const size_t *rows,
	   size_t n, const double *y, double alpha, double epsilon, nb_model *m)
{
	if (nb_init(m, names, cols) < 0)
		return -1;
	double count[2] = {0, 0};
	for (size_t i = 0; i < n; i++) {
		const double *xi = x + rows[i] * cols;
		int c = y[rows[i]] > 0.5;
		count[c]++;
		for (size_t j = 0; j < cols; j++)
			m->mean[c][j] += xi[j];
		for (size_t v = 0; v < m->vars; v++)
			if (m->kind[v] == 1)
				m->logp[c][v][nb_level(m, v, xi)] += 1;	/* counts for now */
	}
	for (int c = 0; c < 2; c++)
		for (size_t j = 0; j < cols; j++)
			m->mean[c][j] /= count[c] ? count[c] : 1;
	double largest = 0;
	for (size_t i = 0; i < n; i++) {
		const double *xi = x + rows[i] * cols;
		int c = y[rows[i]] > 0.5;
		for (size_t j = 0; j < cols; j++)
			m->var[c][j] += (xi[j] - m->mean[c][j]) * (xi[j] - m->mean[c][j]);
	}
	/* The largest variance of any column over all rows, for the smoothing. */
	for (size_t j = 0; j < cols; j++) {
		double all = (m->mean[0][j] * count[0] + m->mean[1][j] * count[1]) / (double)n, ss = 0;
		for (size_t i = 0; i < n; i++) {
			double d = x[rows[i] * cols + j] - all;
			ss += d * d;
		}
		largest = fmax(largest, ss / (double)n);
	}
	for (int c = 0; c < 2; c++) {
		m->prior[c] = log(count[c] / (double)n);
		for (size_t j = 0; j < cols; j++)
			m->var[c][j] = m->var[c][j] / (count[c] ? count[c] : 1) + epsilon * largest;
		for (size_t v = 0; v < m->vars; v++) {
			if (m->kind[v] != 1)
				continue;
			double L = (double)m->levels[v];
			for (size_t l = 0; l < m->levels[v]; l++)
				m->logp[c][v][l] = log((m->logp[c][v][l] + alpha) / (count[c] + alpha * L));
		}
	}
	return 0;
}

static double log_normal(double x, double mean, double var)
{
	return -0.5 * log(2 * M_PI * var) - (x - mean) * (x - mean) / (2 * var);
}

double nb_predict(const nb_model *m, const double *x, double *llr)
{
	double lp[2] = {m->prior[0], m->prior[1]};
	for (size_t v = 0; v < m->vars; v++) {
		if (m->kind[v] == 1) {
			size_t l = nb_level(m, v, x);
			double a = m->logp[0][v][l], b = m->logp[1][v][l];
			lp[0] += a;
			lp[1] += b;
			if (llr && l < m->levels[v] - 1)
				llr[m->first[v] + l] = b - a;
			else if (llr && m->levels[v] == 2 && l == 1)
				llr[m->first[v]] = b - a;	/* a yes/no at "no" */
		} else {
			size_t j = m->first[v];
			double a = log_normal(x[j], m->mean[0][j], m->var[0][j]);
			double b = log_normal(x[j], m->mean[1][j], m->var[1][j]);
			lp[0] += a;
			lp[1] += b;
			if (llr)
				llr[j] = b - a;
		}
	}
	/* P(1) = 1 / (1 + e^(lp0 - lp1)), without overflow. */
	double d = lp[0] - lp[1];
	return d > 0 ? exp(-d) / (1 + exp(-d)) : 1 / (1 + exp(d));
}
