/* The FAQ: Markdown files read, and searched by BM25. */
#include <dirent.h>
#include <libgen.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "faq.h"
#include "../config.h"
#include "../../plugins/text/text.h"

#define K1 1.2
#define B 0.75

typedef struct {
	char *name, *question, *answer;
	char **terms;	/* its words, repeats included */
	size_t nterms;
} entry;

struct patron_faq {
	entry *e;
	size_t n;
	double avgdl;
};

static int collect(const text_token *t, void *ud)
{
	entry *e = ud;
	if (t->kind == TOK_PUNCT)
		return 0;
	e->terms = patron_xrealloc(e->terms, (e->nterms + 1) * sizeof *e->terms);
	e->terms[e->nterms++] = patron_xstrdup(t->text);
	return 0;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* "# question", "- wording" lines, then the answer. */
static int read_entry(const char *path, const char *name, entry *e, patron_err *err)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return patron_err_set(err, "%s: cannot read it: %s", path, strerror(errno));
	memset(e, 0, sizeof *e);
	patron_buf answer = {0}, words = {0};
	char line[4096];
	int stage = 0;	/* 0 before the question, 1 its wordings, 2 the answer */
	while (fgets(line, sizeof line, f)) {
		size_t n = strcspn(line, "\r\n");
		line[n] = 0;
		if (stage == 0) {
			if (!n)
				continue;
			if (line[0] != '#') {
				fclose(f);
				free(answer.data);
				return patron_err_set(err, "%s:1: expected the question, as \"# How long "
						      "does shipping take?\"", path);
			}
			const char *q = line + strspn(line, "# ");
			e->question = patron_xstrdup(q);
			patron_buf_printf(&words, "%s\n", q);
			stage = 1;
		} else if (stage == 1 && line[0] == '-' && line[1] == ' ') {
			patron_buf_printf(&words, "%s\n", line + 2);
		} else if (stage == 1 && !n) {
			continue;
		} else {
			stage = 2;
			patron_buf_printf(&answer, "%s\n", line);
		}
	}
	fclose(f);
	if (!e->question)
		return patron_err_set(err, "%s:1: expected the question, as \"# How long does "
				      "shipping take?\"", path);
	while (answer.len && (answer.data[answer.len - 1] == '\n' || answer.data[answer.len - 1] == ' '))
		answer.len--;
	patron_buf_add(&answer, "", 0);
	e->answer = answer.data;
	e->name = patron_xstrdup(name);
	text_tokens(words.data, collect, e);
	patron_buf_free(&words);
	return 0;
}

int patron_faq_load(const char *dir, patron_faq **out, patron_err *err)
{
	patron_faq *f = patron_xcalloc(1, sizeof *f);
	*out = f;
	DIR *d = opendir(dir);
	if (!d)
		return errno == ENOENT ? 0 : patron_err_set(err, "%s: cannot read it: %s", dir,
							     strerror(errno));
	char **names = NULL;
	size_t nn = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		size_t len = strlen(de->d_name);
		if (de->d_name[0] == '.' || len < 4 || strcmp(de->d_name + len - 3, ".md") != 0)
			continue;
		names = patron_xrealloc(names, (nn + 1) * sizeof *names);
		names[nn++] = patron_xstrdup(de->d_name);
	}
	closedir(d);
	if (nn)
		qsort(names, nn, sizeof *names, by_name);
	f->e = patron_xcalloc(nn ? nn : 1, sizeof *f->e);
	int rc = 0;
	double total = 0;
	for (size_t i = 0; i < nn; i++) {
		if (rc == 0) {
			patron_buf path = {0}, stem = {0};
			patron_buf_printf(&path, "%s/%s", dir, names[i]);
			patron_buf_add(&stem, names[i], strlen(names[i]) - 3);
			rc = read_entry(path.data, stem.data, &f->e[f->n], err);
			if (rc == 0)
				total += (double)f->e[f->n++].nterms;
			patron_buf_free(&path);
			patron_buf_free(&stem);
		}
		free(names[i]);
	}
	free(names);
	f->avgdl = f->n ? total / (double)f->n : 0;
	if (rc < 0) {
		patron_faq_free(f);
		*out = NULL;
	}
	return rc;
}

int patron_faq_load_for(const patron_config *cfg, const char *store_path, patron_faq **out,
			patron_err *err)
{
	char dir[4200];
	const char *fd = cfg ? patron_config_string(cfg, "inbox", "faq") : NULL;
	char *copy = patron_xstrdup(store_path);
	if (fd && fd[0] == '/')
		snprintf(dir, sizeof dir, "%s", fd);
	else
		snprintf(dir, sizeof dir, "%s/%s", dirname(copy), fd ? fd : "faq");
	free(copy);
	return patron_faq_load(dir, out, err);
}

void patron_faq_free(patron_faq *f)
{
	if (!f)
		return;
	for (size_t i = 0; i < f->n; i++) {
		for (size_t k = 0; k < f->e[i].nterms; k++)
			free(f->e[i].terms[k]);
		free(f->e[i].terms);
		free(f->e[i].name);
		free(f->e[i].question);
		free(f->e[i].answer);
	}
	free(f->e);
	free(f);
}

size_t patron_faq_size(const patron_faq *f) { return f ? f->n : 0; }
const char *patron_faq_name(const patron_faq *f, size_t i) { return f->e[i].name; }
const char *patron_faq_question(const patron_faq *f, size_t i) { return f->e[i].question; }
const char *patron_faq_answer(const patron_faq *f, size_t i) { return f->e[i].answer; }

static size_t count_in(const entry *e, const char *term)
{
	size_t tf = 0;
	for (size_t k = 0; k < e->nterms; k++)
		tf += strcmp(e->terms[k], term) == 0;
	return tf;
}

size_t patron_faq_search(const patron_faq *f, const char *text, patron_faq_hit *hits, size_t k)
{
	if (!f || !f->n || !k)
		return 0;
	entry q = {0};
	text_tokens(text ? text : "", collect, &q);
	double *score = patron_xcalloc(f->n, sizeof *score);
	for (size_t t = 0; t < q.nterms; t++) {
		int repeat = 0;	/* each word of the message once */
		for (size_t u = 0; u < t && !repeat; u++)
			repeat = strcmp(q.terms[u], q.terms[t]) == 0;
		if (repeat)
			continue;
		size_t df = 0;
		for (size_t i = 0; i < f->n; i++)
			df += count_in(&f->e[i], q.terms[t]) > 0;
		if (!df)
			continue;
		double idf = log(1 + ((double)f->n - (double)df + 0.5) / ((double)df + 0.5));
		for (size_t i = 0; i < f->n; i++) {
			double tf = (double)count_in(&f->e[i], q.terms[t]);
			if (tf > 0)
				score[i] += idf * tf * (K1 + 1) /
					    (tf + K1 * (1 - B + B * (double)f->e[i].nterms / f->avgdl));
		}
	}
	size_t n = 0;
	for (size_t i = 0; i < f->n; i++) {
		if (!(score[i] > 0))
			continue;
		size_t at;	/* into the best K, kept in order; ties keep file order */
		if (n < k)
			at = n++;
		else if (score[i] > hits[k - 1].score)
			at = k - 1;
		else
			continue;
		while (at > 0 && hits[at - 1].score < score[i]) {
			hits[at] = hits[at - 1];
			at--;
		}
		hits[at] = (patron_faq_hit){i, score[i]};
	}
	for (size_t t = 0; t < q.nterms; t++)
		free(q.terms[t]);
	free(q.terms);
	free(score);
	return n;
}

void patron_faq_fill(const char *answer, const char *const *vars, patron_buf *out)
{
	for (const char *p = answer; *p;) {
		const char *open = strstr(p, "{{");
		const char *close = open ? strstr(open + 2, "}}") : NULL;
		if (!close) {
			patron_buf_adds(out, p);
			break;
		}
		patron_buf_add(out, p, (size_t)(open - p));
		const char *name = open + 2, *bar = memchr(name, '|', (size_t)(close - name));
		while (*name == ' ')
			name++;
		size_t len = (size_t)((bar ? bar : close) - name);
		while (len && name[len - 1] == ' ')
			len--;
		const char *value = NULL;
		for (const char *const *v = vars; v && v[0]; v += 2)
			if (strlen(v[0]) == len && strncmp(v[0], name, len) == 0 && v[1] && *v[1])
				value = v[1];
		if (value) {
			patron_buf_adds(out, value);
		} else if (bar) {	/* {{first_name | "there"}}: the default */
			const char *d = bar + 1, *e = close;
			while (d < e && (*d == ' ' || *d == '"'))
				d++;
			while (e > d && (e[-1] == ' ' || e[-1] == '"'))
				e--;
			patron_buf_add(out, d, (size_t)(e - d));
		}
		p = close + 2;
	}
	patron_buf_add(out, "", 0);
}
