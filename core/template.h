/* Message templates: a subject, a text body and an HTML body, rendered
 * against {"customer": {...}, "vars": {...}, "unsubscribe_url": "..."}.
 *
 * A template NAME in a folder is any of these files:
 *   NAME.subject  the subject line
 *   NAME.txt      the text body; may start with a "Subject: ..." line
 *   NAME.html     the HTML body; may start with a "Subject: ..." line
 *   NAME.tmpl     all in one, in sections begun by the lines "--- subject",
 *                 "--- text" and "--- html"
 *
 * The syntax, a small part of Mustache:
 *   {{customer.first_name}}            a value; no value is an error
 *   {{customer.first_name | "there"}}  a value, or the default when it has none
 *   {{#customer.recommendations}}{{name}}{{/customer.recommendations}}
 *                                      once per item of a list (once for a yes)
 *   {{^vars.code}}...{{/vars.code}}    only when there is no such value
 *   {{! a comment }}
 * Values in the HTML body are HTML-escaped; the text body and the subject
 * take them as they are. */
#ifndef PATRON_TEMPLATE_H
#define PATRON_TEMPLATE_H

#include <jansson.h>
#include <stddef.h>

#include "util.h"

typedef struct patron_template patron_template;

/* The customer fields a template may name after "customer.". */
extern const char *const patron_template_fields[];

/* 1 when template NAME has at least one file in DIR. */
int patron_template_exists(const char *dir, const char *name);

/* Reads and parses template NAME from DIR. Errors name the file and line:
 * syntax, an unknown field of customer, a name that is not customer.*,
 * vars.* or unsubscribe_url, a template with no body. */
int patron_template_load(const char *dir, const char *name, patron_template **out,
			 patron_err *err);
void patron_template_free(patron_template *t);

/* The files it was read from, comma-separated ("templates/winback.txt"). */
const char *patron_template_files(const patron_template *t);

/* Checks what a send can know before rendering: every vars.NAME the
 * template uses outside a section without a default is in VARS. */
int patron_template_check_vars(const patron_template *t, const json_t *vars, patron_err *err);

typedef struct {
	char *subject;	/* NULL when the template has none */
	char *text;	/* the HTML body stripped of tags when there is only HTML */
	char *html;	/* NULL when the template has none */
} patron_rendered;

/* Renders against CTX. A value with no default that is missing is an error
 * naming the file, line and name. */
int patron_template_render(const patron_template *t, const json_t *ctx, patron_rendered *out,
			   patron_err *err);
void patron_rendered_free(patron_rendered *r);

/* Appends S to B with & < > " ' escaped. */
void patron_html_escape(patron_buf *b, const char *s, size_t n);

#endif
