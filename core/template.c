/* Message templates: parsing into a small tree, the checks that can be made
 * before a customer is known, and rendering. See template.h. */
#include "template.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

const char *const patron_template_fields[] = {
	"id", "email", "phone", "first_name", "last_name", "name", "created_at", "orders",
	"total_spent", "first_order_at", "last_order_at", "days_since_last_order", "segment",
	"churn", "clv", "p_alive", "tags", "attributes", "recommendations", NULL,
};

enum { N_TEXT, N_VAR, N_SECTION, N_INVERTED };
enum { P_SUBJECT, P_TEXT, P_HTML, P_PARTS };

typedef struct node {
	int kind;
	char *s;		/* the text, or the name */
	size_t len;
	char *dflt;		/* the default of a value, or NULL */
	int line;
	struct node *kids;	/* a section's body */
	size_t nkids;
} node;

typedef struct {
	node *nodes;
	size_t n;
	const char *file;	/* where it came from, for errors */
} part;

struct patron_template {
	part parts[P_PARTS];
	char *files[4];
	size_t nfiles;
	patron_buf names;
};

static const char *const part_names[] = {"subject", "text", "html"};

static void free_nodes(node *ns, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(ns[i].s);
		free(ns[i].dflt);
		free_nodes(ns[i].kids, ns[i].nkids);
	}
	free(ns);
}

void patron_template_free(patron_template *t)
{
	if (!t)
		return;
	for (int p = 0; p < P_PARTS; p++)
		free_nodes(t->parts[p].nodes, t->parts[p].n);
	for (size_t i = 0; i < t->nfiles; i++)
		free(t->files[i]);
	patron_buf_free(&t->names);
	free(t);
}

const char *patron_template_files(const patron_template *t)
{
	return t->names.data ? t->names.data : "";
}

/* The whole of PATH, NUL-terminated; NULL when it does not exist. */
static char *slurp(const char *path, patron_err *err, int *missing)
{
	*missing = 0;
	FILE *f = fopen(path, "rb");
	if (!f) {
		*missing = errno == ENOENT;
		if (!*missing)
			patron_err_set(err, "%s: cannot read: %s", path, strerror(errno));
		return NULL;
	}
	patron_buf b = {0};
	char chunk[8192];
	size_t got;
	while ((got = fread(chunk, 1, sizeof chunk, f)) > 0)
		patron_buf_add(&b, chunk, got);
	int bad = ferror(f);
	fclose(f);
	if (bad) {
		patron_buf_free(&b);
		patron_err_set(err, "%s: cannot read", path);
		return NULL;
	}
	patron_buf_add(&b, "", 1);
	return b.data;
}

/* ---- parsing ---- */

typedef struct {
	const char *file;
	int line;
	patron_err *err;
} parser;

static void push(node **ns, size_t *n, node x)
{
	*ns = patron_xrealloc(*ns, (*n + 1) * sizeof **ns);
	(*ns)[(*n)++] = x;
}

static int lines_in(const char *s, const char *e)
{
	int n = 0;
	for (; s < e; s++)
		n += *s == '\n';
	return n;
}

static int name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '.' || c == '-';
}

/* The name of a tag: NAME or NAME | "default". */
static int parse_tag(parser *p, const char *s, const char *e, node *out, int sectioned)
{
	while (s < e && (*s == ' ' || *s == '\t'))
		s++;
	while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
		e--;
	const char *ne = s;
	while (ne < e && name_char(*ne))
		ne++;
	if (ne == s)
		return patron_err_set(p->err, "%s:%d: expected a name inside {{ }}", p->file,
				      p->line);
	out->s = patron_xmalloc((size_t)(ne - s) + 1);
	memcpy(out->s, s, (size_t)(ne - s));
	out->s[ne - s] = '\0';
	const char *r = ne;
	while (r < e && (*r == ' ' || *r == '\t'))
		r++;
	if (r < e) {
		if (*r != '|' || sectioned)
			return patron_err_set(p->err, "%s:%d: {{%s ...}}: expected }} or | \"default\""
					      " after the name", p->file, p->line, out->s);
		r++;
		while (r < e && (*r == ' ' || *r == '\t'))
			r++;
		if (r >= e || *r != '"' || e - r < 2 || e[-1] != '"')
			return patron_err_set(p->err, "%s:%d: {{%s | ...}}: expected a default in "
					      "double quotes", p->file, p->line, out->s);
		out->dflt = patron_xmalloc((size_t)(e - r) - 1);
		memcpy(out->dflt, r + 1, (size_t)(e - r) - 2);
		out->dflt[e - r - 2] = '\0';
	}
	return 0;
}

/* Parses S..E into NODES until {{/CLOSE}} (or the end when CLOSE is NULL);
 * *AT is where it stopped. */
static int parse_nodes(parser *p, const char *s, const char *e, const char *close, node **ns,
		       size_t *n, const char **at)
{
	while (s < e) {
		const char *open = strstr(s, "{{");
		if (!open || open >= e)
			open = e;
		if (open > s) {
			node t = {.kind = N_TEXT, .len = (size_t)(open - s), .line = p->line};
			t.s = patron_xmalloc(t.len + 1);
			memcpy(t.s, s, t.len);
			t.s[t.len] = '\0';
			push(ns, n, t);
			p->line += lines_in(s, open);
		}
		if (open == e)
			break;
		const char *end = strstr(open + 2, "}}");
		if (!end || end >= e)
			return patron_err_set(p->err, "%s:%d: {{ is never closed with }}", p->file,
					      p->line);
		const char *in = open + 2;
		int line = p->line;
		p->line += lines_in(open, end);
		s = end + 2;
		if (*in == '!')
			continue;
		node x = {.line = line};
		if (*in == '#' || *in == '^' || *in == '/') {
			char sigil = *in;
			if (parse_tag(p, in + 1, end, &x, 1) < 0) {
				free(x.s);
				return -1;
			}
			if (sigil == '/') {
				int ok = close && strcmp(close, x.s) == 0;
				if (!ok)
					patron_err_set(p->err, "%s:%d: {{/%s}} closes %s", p->file, line,
						       x.s, close ? close : "nothing that is open");
				free(x.s);
				if (!ok)
					return -1;
				*at = s;
				return 1;
			}
			x.kind = sigil == '#' ? N_SECTION : N_INVERTED;
			const char *after = NULL;
			int rc = parse_nodes(p, s, e, x.s, &x.kids, &x.nkids, &after);
			if (rc <= 0) {
				if (rc == 0)
					patron_err_set(p->err, "%s:%d: {{%c%s}} is never closed with "
						       "{{/%s}}", p->file, line, sigil, x.s, x.s);
				free(x.s);
				free_nodes(x.kids, x.nkids);
				return -1;
			}
			s = after;
		} else {
			x.kind = N_VAR;
			if (parse_tag(p, in, end, &x, 0) < 0) {
				free(x.s);
				free(x.dflt);
				return -1;
			}
		}
		push(ns, n, x);
	}
	*at = e;
	return 0;
}

/* Checks the names a part uses: outside sections, a name is customer.FIELD,
 * vars.NAME, unsubscribe_url or survey.NAME (a survey's links and token:
 * inbox/survey.h); inside one, it may also be the item's. */
static int check_names(const part *pt, const node *ns, size_t n, int depth, patron_err *err)
{
	for (size_t i = 0; i < n; i++) {
		const node *x = &ns[i];
		if (x->kind == N_TEXT)
			continue;
		const char *nm = x->s;
		if (strncmp(nm, "customer.", 9) == 0) {
			const char *f = nm + 9;
			size_t fl = strcspn(f, ".");
			int known = 0;
			for (int k = 0; patron_template_fields[k]; k++)
				known |= strlen(patron_template_fields[k]) == fl &&
					 strncmp(patron_template_fields[k], f, fl) == 0;
			if (!known) {
				patron_buf all = {0};
				for (int k = 0; patron_template_fields[k]; k++)
					patron_buf_printf(&all, "%s%s", k ? ", " : "",
							  patron_template_fields[k]);
				patron_err_set(err, "%s:%d: customer.%.*s: no such customer field "
					       "(expected one of %s)", pt->file, x->line, (int)fl, f,
					       all.data);
				patron_buf_free(&all);
				return -1;
			}
		} else if (depth == 0 && strcmp(nm, "customer") != 0 &&
			   strncmp(nm, "vars.", 5) != 0 && strcmp(nm, "vars") != 0 &&
			   strcmp(nm, "unsubscribe_url") != 0 && strncmp(nm, "survey.", 7) != 0) {
			return patron_err_set(err, "%s:%d: {{%s}}: unknown name (expected "
					      "customer.FIELD, vars.NAME, unsubscribe_url or survey.links, "
					      "survey.token)", pt->file, x->line, nm);
		}
		if (x->kind != N_VAR && check_names(pt, x->kids, x->nkids, depth + 1, err) < 0)
			return -1;
	}
	return 0;
}

static int parse_part(patron_template *t, int which, const char *file, int line, const char *s,
		      const char *e, patron_err *err)
{
	part *pt = &t->parts[which];
	if (pt->nodes || pt->file)
		return patron_err_set(err, "%s:%d: the %s is given twice", file, line,
				      part_names[which]);
	if (which == P_SUBJECT) {	/* one line: the trailing newline is not part of it */
		while (e > s && (e[-1] == '\n' || e[-1] == '\r'))
			e--;
	}
	pt->file = file;
	parser p = {.file = file, .line = line, .err = err};
	const char *at;
	if (parse_nodes(&p, s, e, NULL, &pt->nodes, &pt->n, &at) < 0)
		return -1;
	return check_names(pt, pt->nodes, pt->n, 0, err);
}

/* A body file: an optional "Subject: ..." first line (and the blank line
 * after it), then the body. */
static int parse_body(patron_template *t, int which, const char *file, const char *s,
		      patron_err *err)
{
	const char *e = s + strlen(s);
	int line = 1;
	if (strncmp(s, "Subject:", 8) == 0) {
		const char *nl = strchr(s, '\n');
		const char *subj = s + 8;
		while (*subj == ' ')
			subj++;
		const char *se = nl ? nl : e;
		if (parse_part(t, P_SUBJECT, file, 1, subj, se, err) < 0)
			return -1;
		s = nl ? nl + 1 : e;
		line = 2;
		if (*s == '\n' || (s[0] == '\r' && s[1] == '\n')) {
			s += *s == '\n' ? 1 : 2;
			line = 3;
		}
	}
	return parse_part(t, which, file, line, s, e, err);
}

/* A .tmpl file: sections begun by "--- subject", "--- text", "--- html";
 * without them, the whole file is a text body. */
static int parse_sections(patron_template *t, const char *file, const char *s, patron_err *err)
{
	if (strncmp(s, "--- ", 4) != 0 && !strstr(s, "\n--- "))
		return parse_body(t, P_TEXT, file, s, err);
	int line = 1, which = -1, body_line = 1;
	const char *body = NULL;
	for (const char *l = s;; line++) {
		const char *nl = strchr(l, '\n');
		const char *le = nl ? nl : l + strlen(l);
		int marker = strncmp(l, "--- ", 4) == 0;
		if (marker || !nl) {
			const char *be = marker ? l : le;
			if (which >= 0) {
				if (parse_part(t, which, file, body_line, body, be, err) < 0)
					return -1;
			} else if (marker) {
				for (const char *c = s; c < l; c++)
					if (*c != '\n' && *c != '\r' && *c != ' ')
						return patron_err_set(err, "%s:1: text before the first "
								      "--- section", file);
			}
		}
		if (marker) {
			size_t nlen = (size_t)(le - l) - 4;
			while (nlen && (l[4 + nlen - 1] == '\r' || l[4 + nlen - 1] == ' '))
				nlen--;
			which = -1;
			for (int k = 0; k < P_PARTS; k++)
				if (strlen(part_names[k]) == nlen && strncmp(l + 4, part_names[k], nlen) == 0)
					which = k;
			if (which < 0)
				return patron_err_set(err, "%s:%d: unknown section \"%.*s\" (expected "
						      "--- subject, --- text or --- html)", file, line,
						      (int)nlen, l + 4);
			body = nl ? nl + 1 : le;
			body_line = line + 1;
		}
		if (!nl)
			break;
		l = nl + 1;
	}
	return 0;
}

int patron_template_exists(const char *dir, const char *name)
{
	static const char *const ext[] = {"tmpl", "txt", "html", "subject"};
	for (int i = 0; i < 4; i++) {
		char path[4400];
		struct stat sb;
		snprintf(path, sizeof path, "%s/%s.%s", dir, name, ext[i]);
		if (stat(path, &sb) == 0 && S_ISREG(sb.st_mode))
			return 1;
	}
	return 0;
}

int patron_template_load(const char *dir, const char *name, patron_template **out,
			 patron_err *err)
{
	static const char *const ext[] = {"tmpl", "txt", "html", "subject"};
	patron_template *t = patron_xcalloc(1, sizeof *t);
	*out = NULL;
	for (int i = 0; i < 4; i++) {
		char path[4400];
		snprintf(path, sizeof path, "%s/%s.%s", dir, name, ext[i]);
		int missing;
		char *text = slurp(path, err, &missing);
		if (!text && !missing) {
			patron_template_free(t);
			return -1;
		}
		if (!text)
			continue;
		char *file = t->files[t->nfiles++] = patron_xstrdup(path);
		patron_buf_printf(&t->names, "%s%s", t->names.len ? ", " : "", file);
		int rc = i == 0   ? parse_sections(t, file, text, err)
			 : i == 1 ? parse_body(t, P_TEXT, file, text, err)
			 : i == 2 ? parse_body(t, P_HTML, file, text, err)
				  : parse_part(t, P_SUBJECT, file, 1, text, text + strlen(text), err);
		free(text);
		if (rc < 0) {
			patron_template_free(t);
			return -1;
		}
	}
	if (!t->nfiles) {
		patron_template_free(t);
		return patron_err_set(err, "no template \"%s\" in %s (expected %s.txt, %s.html, "
				      "%s.subject or %s.tmpl)", name, dir, name, name, name, name);
	}
	if (!t->parts[P_TEXT].file && !t->parts[P_HTML].file) {
		patron_err_set(err, "template %s (%s): no body (expected %s.txt or %s.html)", name,
			       t->names.data, name, name);
		patron_template_free(t);
		return -1;
	}
	*out = t;
	return 0;
}

/* ---- the checks a send can make ---- */

static int check_vars_in(const part *pt, const node *ns, size_t n, const json_t *vars,
			 patron_err *err)
{
	for (size_t i = 0; i < n; i++) {
		const node *x = &ns[i];
		if (x->kind != N_VAR || x->dflt || strncmp(x->s, "vars.", 5) != 0)
			continue;
		const json_t *v = vars;
		char *copy = patron_xstrdup(x->s + 5), *save = NULL;
		for (char *seg = strtok_r(copy, ".", &save); seg && v;
		     seg = strtok_r(NULL, ".", &save))
			v = json_is_object(v) ? json_object_get(v, seg) : NULL;
		free(copy);
		if (!v || json_is_null(v))
			return patron_err_set(err, "%s:%d: the template uses {{%s}}, which this send "
					      "does not give (add it to vars, or a default: {{%s | "
					      "\"...\"}})", pt->file, x->line, x->s, x->s);
	}
	return 0;
}

int patron_template_check_vars(const patron_template *t, const json_t *vars, patron_err *err)
{
	for (int p = 0; p < P_PARTS; p++)
		if (check_vars_in(&t->parts[p], t->parts[p].nodes, t->parts[p].n, vars, err) < 0)
			return -1;
	return 0;
}

/* ---- rendering ---- */

void patron_html_escape(patron_buf *b, const char *s, size_t n)
{
	size_t from = 0;
	for (size_t i = 0; i < n; i++) {
		const char *rep = s[i] == '&'	 ? "&amp;"
				  : s[i] == '<'	 ? "&lt;"
				  : s[i] == '>'	 ? "&gt;"
				  : s[i] == '"'	 ? "&quot;"
				  : s[i] == '\'' ? "&#39;"
						 : NULL;
		if (!rep)
			continue;
		patron_buf_add(b, s + from, i - from);
		patron_buf_adds(b, rep);
		from = i + 1;
	}
	patron_buf_add(b, s + from, n - from);
}

typedef struct {
	const part *pt;
	int which;
	const json_t *stack[32];
	int depth;
	patron_buf *out;
	patron_err *err;
} renderer;

/* The value NAME stands for: "." is the current item; otherwise the first
 * segment is looked up from the innermost item outwards. */
static const json_t *lookup(const renderer *r, const char *name)
{
	if (strcmp(name, ".") == 0)
		return r->stack[r->depth - 1];
	size_t first = strcspn(name, ".");
	const json_t *v = NULL;
	for (int d = r->depth - 1; d >= 0 && !v; d--)
		if (json_is_object(r->stack[d]))
			v = json_object_getn(r->stack[d], name, first);
	const char *rest = name + first;
	while (v && *rest == '.') {
		rest++;
		size_t l = strcspn(rest, ".");
		v = json_is_object(v) ? json_object_getn(v, rest, l) : NULL;
		rest += l;
	}
	return v;
}

static int has_value(const json_t *v)
{
	if (!v || json_is_null(v) || json_is_false(v))
		return 0;
	if (json_is_string(v))
		return json_string_length(v) > 0;
	if (json_is_array(v))
		return json_array_size(v) > 0;
	return 1;
}

static void put(renderer *r, const char *s, size_t n)
{
	if (r->which == P_HTML)
		patron_html_escape(r->out, s, n);
	else if (r->which == P_SUBJECT) {	/* one line, whatever the value holds */
		for (size_t i = 0; i < n; i++)
			patron_buf_add(r->out, s[i] == '\r' || s[i] == '\n' ? " " : s + i, 1);
	} else
		patron_buf_add(r->out, s, n);
}

static int put_value(renderer *r, const node *x, const json_t *v)
{
	char num[64];
	if (json_is_string(v)) {
		put(r, json_string_value(v), json_string_length(v));
	} else if (json_is_integer(v)) {
		snprintf(num, sizeof num, "%lld", (long long)json_integer_value(v));
		put(r, num, strlen(num));
	} else if (json_is_real(v)) {
		double d = json_real_value(v);
		snprintf(num, sizeof num, d == (double)(long long)d ? "%.0f" : "%.2f", d);
		put(r, num, strlen(num));
	} else if (json_is_boolean(v)) {
		put(r, json_is_true(v) ? "yes" : "no", json_is_true(v) ? 3 : 2);
	} else {
		return patron_err_set(r->err, "%s:%d: {{%s}} is a %s; go through it with "
				      "{{#%s}}...{{/%s}}", r->pt->file, x->line, x->s,
				      json_is_array(v) ? "list" : "table", x->s, x->s);
	}
	return 0;
}

static int render_nodes(renderer *r, const node *ns, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const node *x = &ns[i];
		if (x->kind == N_TEXT) {
			patron_buf_add(r->out, x->s, x->len);
			continue;
		}
		const json_t *v = lookup(r, x->s);
		if (x->kind == N_VAR) {
			if (x->dflt && !has_value(v)) {
				put(r, x->dflt, strlen(x->dflt));
			} else if (!v || json_is_null(v)) {
				return patron_err_set(r->err, "%s:%d: {{%s}} has no value here (give a "
						      "default: {{%s | \"...\"}})", r->pt->file,
						      x->line, x->s, x->s);
			} else if (put_value(r, x, v) < 0) {
				return -1;
			}
			continue;
		}
		int yes = has_value(v);
		if (x->kind == N_INVERTED) {
			if (!yes && render_nodes(r, x->kids, x->nkids) < 0)
				return -1;
			continue;
		}
		if (!yes)
			continue;
		if (r->depth >= 32)
			return patron_err_set(r->err, "%s:%d: sections nested too deep", r->pt->file,
					      x->line);
		size_t items = json_is_array(v) ? json_array_size(v) : 1;
		for (size_t k = 0; k < items; k++) {
			r->stack[r->depth++] = json_is_array(v) ? json_array_get(v, k) : v;
			int rc = render_nodes(r, x->kids, x->nkids);
			r->depth--;
			if (rc < 0)
				return -1;
		}
	}
	return 0;
}

/* A text body from an HTML one: tags dropped, the common entities read. */
static char *text_of_html(const char *h)
{
	patron_buf b = {0};
	static const struct {
		const char *ent, *ch;
	} ents[] = {{"&amp;", "&"}, {"&lt;", "<"}, {"&gt;", ">"}, {"&quot;", "\""},
		    {"&#39;", "'"}, {"&nbsp;", " "}};
	for (const char *p = h; *p;) {
		if (*p == '<') {
			const char *e = strchr(p, '>');
			if (!e)
				break;
			if (strncasecmp(p, "<br", 3) == 0 || strncasecmp(p, "</p", 3) == 0)
				patron_buf_adds(&b, "\n");
			p = e + 1;
			continue;
		}
		int done = 0;
		for (size_t k = 0; k < sizeof ents / sizeof ents[0] && *p == '&'; k++) {
			size_t l = strlen(ents[k].ent);
			if (strncmp(p, ents[k].ent, l) == 0) {
				patron_buf_adds(&b, ents[k].ch);
				p += l;
				done = 1;
				break;
			}
		}
		if (!done)
			patron_buf_add(&b, p++, 1);
	}
	patron_buf_add(&b, "", 1);
	return b.data;
}

int patron_template_render(const patron_template *t, const json_t *ctx, patron_rendered *out,
			   patron_err *err)
{
	memset(out, 0, sizeof *out);
	char **dest[P_PARTS] = {&out->subject, &out->text, &out->html};
	for (int p = 0; p < P_PARTS; p++) {
		if (!t->parts[p].file)
			continue;
		patron_buf b = {0};
		renderer r = {.pt = &t->parts[p], .which = p, .out = &b, .err = err};
		r.stack[r.depth++] = ctx;
		if (render_nodes(&r, t->parts[p].nodes, t->parts[p].n) < 0) {
			patron_buf_free(&b);
			patron_rendered_free(out);
			return -1;
		}
		patron_buf_add(&b, "", 1);
		*dest[p] = b.data;
	}
	if (!out->text)
		out->text = text_of_html(out->html);
	return 0;
}

void patron_rendered_free(patron_rendered *r)
{
	free(r->subject);
	free(r->text);
	free(r->html);
	memset(r, 0, sizeof *r);
}
