/* Reading a rule file's text for the names the sandbox refuses (io, load,
 * os.execute, ...) before any of it runs, so that `patron rules check`
 * refuses a rule that would fail only once `patron run` calls it. Lua
 * resolves these names when the code runs, so this is a scan of the
 * tokens: a name after a dot or colon is a field, a name declared local, as
 * a parameter or a loop variable is the file's own, and a name followed by
 * a single = is a key or an assignment. What it cannot see (a name built at
 * run time) the sandbox still refuses when it runs. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "rules_impl.h"

const char *const patron_rules_banned[] = {"io", "require", "dofile", "loadfile", "load",
					   "loadstring", "debug", "package", "collectgarbage",
					   "coroutine", "xpcall", NULL};
const char *const patron_rules_os_allowed[] = {"time", "date", "clock", "difftime", NULL};

#define MAX_NAMES 512	/* declared names remembered; the rest are not checked */
#define NAME_MAX_LEN 64

typedef struct {
	const char *s;
	size_t n, i;
	int line;
} scanner;

static int in_list(const char *const *list, const char *name)
{
	for (int i = 0; list[i]; i++)
		if (strcmp(list[i], name) == 0)
			return 1;
	return 0;
}

/* The level of a long bracket at S->i ("[[" 0, "[==[" 2), or -1. */
static int long_bracket(const scanner *s)
{
	size_t j = s->i + 1;
	int level = 0;
	while (j < s->n && s->s[j] == '=')
		j++, level++;
	return j < s->n && s->s[j] == '[' ? level : -1;
}

/* Skips a long string or comment opened at S->i with LEVEL. */
static void skip_long(scanner *s, int level)
{
	s->i += (size_t)level + 2;
	while (s->i < s->n) {
		if (s->s[s->i] == '\n')
			s->line++;
		if (s->s[s->i] == ']') {
			size_t j = s->i + 1;
			int l = 0;
			while (j < s->n && s->s[j] == '=')
				j++, l++;
			if (l == level && j < s->n && s->s[j] == ']') {
				s->i = j + 1;
				return;
			}
		}
		s->i++;
	}
}

/* Skips blanks and comments; the next character, or 0 at the end. */
static char skip_space(scanner *s)
{
	while (s->i < s->n) {
		char c = s->s[s->i];
		if (c == '\n') {
			s->line++;
			s->i++;
		} else if (isspace((unsigned char)c)) {
			s->i++;
		} else if (c == '-' && s->i + 1 < s->n && s->s[s->i + 1] == '-') {
			s->i += 2;
			int level = s->i < s->n && s->s[s->i] == '[' ? long_bracket(s) : -1;
			if (level >= 0)
				skip_long(s, level);
			else
				while (s->i < s->n && s->s[s->i] != '\n')
					s->i++;
		} else {
			return c;
		}
	}
	return 0;
}

/* Reads a name at S->i into NAME (cut at NAME_MAX_LEN - 1). */
static void read_name(scanner *s, char *name)
{
	size_t k = 0;
	while (s->i < s->n && (isalnum((unsigned char)s->s[s->i]) || s->s[s->i] == '_')) {
		if (k < NAME_MAX_LEN - 1)
			name[k++] = s->s[s->i];
		s->i++;
	}
	name[k] = '\0';
}

int patron_rules_scan(const char *path, const char *text, size_t len, patron_err *err)
{
	scanner s = {text, len, 0, 1};
	char declared[MAX_NAMES][NAME_MAX_LEN];
	size_t ndeclared = 0;
	/* What the previous token makes of a name: a field (after . or :), a
	 * declaration (after local, function, for, or a comma in their list),
	 * a label (after goto or ::). */
	enum { NONE, FIELD, DECLARE, LABEL } next = NONE;
	int declaring = 0;	/* 1 in a local or for name list, 2 after function */
	int braces = 0;		/* inside a table constructor, NAME = is a key */
	char name[NAME_MAX_LEN];
	while (skip_space(&s)) {
		char c = s.s[s.i];
		int line = s.line;
		if (c == '"' || c == '\'') {
			for (s.i++; s.i < s.n && s.s[s.i] != c; s.i++) {
				if (s.s[s.i] == '\\' && s.i + 1 < s.n)
					s.i++;
				if (s.s[s.i] == '\n')
					s.line++;
			}
			s.i++;
			next = NONE, declaring = 0;
			continue;
		}
		if (c == '[' && long_bracket(&s) >= 0) {
			skip_long(&s, long_bracket(&s));
			next = NONE, declaring = 0;
			continue;
		}
		if (isdigit((unsigned char)c)) {
			while (s.i < s.n && (isalnum((unsigned char)s.s[s.i]) || s.s[s.i] == '.' ||
					     ((s.s[s.i] == '-' || s.s[s.i] == '+') &&
					      strchr("eEpP", s.s[s.i - 1]))))
				s.i++;
			next = NONE, declaring = 0;
			continue;
		}
		if (!isalpha((unsigned char)c) && c != '_') {
			s.i++;
			braces += (c == '{') - (c == '}' && braces > 0);
			char d = s.i < s.n ? s.s[s.i] : 0;
			if (c == '.' && d != '.') {
				next = FIELD;
			} else if (c == ':' && d == ':') {
				s.i++;
				next = next == LABEL ? NONE : LABEL;
			} else if (c == ':') {
				next = FIELD;
			} else if (c == ',' && declaring) {
				next = DECLARE;
			} else if (c == '(' && declaring == 2) {
				next = DECLARE;	/* the parameters */
			} else if (c == '<' && declaring == 1) {
				next = LABEL;	/* an attribute, <const> */
			} else {
				while (c == '.' && s.i < s.n && s.s[s.i] == '.')
					s.i++;	/* .. or ... */
				if (c != '>' || declaring != 1)
					declaring = 0;
				next = NONE;
			}
			continue;
		}
		read_name(&s, name);
		int was = next;
		next = NONE;
		if (strcmp(name, "local") == 0 || strcmp(name, "for") == 0) {
			next = DECLARE, declaring = 1;
			continue;
		}
		if (strcmp(name, "function") == 0) {
			next = DECLARE, declaring = 2;
			continue;
		}
		if (strcmp(name, "goto") == 0) {
			next = LABEL;
			continue;
		}
		if (was == DECLARE) {
			if (ndeclared < MAX_NAMES)
				snprintf(declared[ndeclared++], NAME_MAX_LEN, "%s", name);
			if (declaring == 2)
				next = NONE;	/* function a.b:c: only a is a name */
			continue;
		}
		if (was == FIELD || was == LABEL)
			continue;
		int mine = 0;
		for (size_t k = 0; k < ndeclared && !mine; k++)
			mine = strcmp(declared[k], name) == 0;
		/* NAME = ...: a table's key, or the file's own global from now on. */
		char after = skip_space(&s);
		if (after == '=' && !(s.i + 1 < s.n && s.s[s.i + 1] == '=')) {
			if (!mine && !braces && ndeclared < MAX_NAMES)
				snprintf(declared[ndeclared++], NAME_MAX_LEN, "%s", name);
			continue;
		}
		if (mine)
			continue;
		if (in_list(patron_rules_banned, name))
			return patron_err_set(err, "%s:%d: %s is not available in rules (they run in a "
					      "sandbox)", path, line, name);
		if ((strcmp(name, "os") == 0 || strcmp(name, "string") == 0) &&
		    (after == '.' || after == ':')) {
			size_t at = s.i;
			int at_line = s.line;
			s.i++;
			if (skip_space(&s) && (isalpha((unsigned char)s.s[s.i]) || s.s[s.i] == '_')) {
				char field[NAME_MAX_LEN];
				read_name(&s, field);
				if (name[0] == 'o' && !in_list(patron_rules_os_allowed, field))
					return patron_err_set(err, "%s:%d: os.%s is not available in "
							      "rules (they run in a sandbox)", path,
							      line, field);
				if (name[0] == 's' && strcmp(field, "dump") == 0)
					return patron_err_set(err, "%s:%d: string.dump is not available "
							      "in rules (they run in a sandbox)", path,
							      line);
			}
			s.i = at;
			s.line = at_line;
		}
	}
	return 0;
}
