#include "csv.h"

#include <csv.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* The fields of the record last handed out. */
typedef struct {
	const char **field;
	size_t *len, cap;
} handed;

/* Points REC at the N fields from FIRST of a record kept as BYTES with
 * offsets FOFF and lengths FLEN. */
static void hand_out(handed *h, const char *bytes, const size_t *foff, const size_t *flen,
		     size_t first, size_t n, patron_csv_record *rec)
{
	if (n > h->cap) {
		h->cap = n * 2;
		h->field = patron_xrealloc(h->field, h->cap * sizeof *h->field);
		h->len = patron_xrealloc(h->len, h->cap * sizeof *h->len);
	}
	for (size_t k = 0; k < n; k++) {
		h->field[k] = bytes + foff[first + k];
		h->len[k] = flen[first + k];
	}
	rec->field = h->field;
	rec->len = h->len;
	rec->n = n;
}

/* Input is fed to libcsv one physical line at a time; that is what lets us
 * know the line a record starts on, which libcsv itself does not track.
 * Finished records queue up in `recs` (several can end within one chunk
 * when a file uses bare CR line ends) and are handed out one by one. */
struct patron_csv {
	char *name;
	FILE *file;		/* NULL when reading from memory */
	const char *mem;
	size_t mem_len;

	char *buf;		/* window on the file */
	size_t buf_cap, buf_pos, buf_len;
	int eof, finished;
	uint64_t offset, size;

	struct csv_parser parser;
	long line;		/* line of the chunk being fed */
	long rec_start;
	int in_record;

	/* Completed records: field bytes, each field's offset/length, and for
	 * each record its first field index and start line. */
	patron_buf bytes;
	size_t *foff, *flen, nf, capf;
	size_t *rfirst;
	long *rline;
	size_t nr, capr, next_rec;

	handed out;		/* the record handed out */
	int over;		/* a field or a record went past the limits */
	struct ahead *ahead;	/* patron_csv_read_ahead's, or NULL */
};

/* Records parsed ahead by a thread of their own, handed over in blocks. */
#define AHEAD_BLOCKS 4
#define AHEAD_RECORDS 4096

typedef struct {
	patron_buf bytes;	/* the fields, each NUL-ended */
	size_t *foff, *flen, nf, capf;
	size_t *rfirst;		/* nr + 1 */
	long *rline;
	int *ascii;
	size_t nr, capr;
	int end;		/* 0 more follows, 1 the end of the input, -1 an error */
	patron_err err;
	uint64_t offset;	/* bytes read when the block was made */
} ahead_block;

struct ahead {
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	ahead_block blocks[AHEAD_BLOCKS];
	size_t made, taken;	/* blocks made by the thread, and handed back */
	int stop;
	ahead_block *cur;	/* the block being read, until handed back */
	size_t next_rec;
	handed out;		/* the record handed out (the thread has its own in the reader) */
};

static size_t max_field = PATRON_CSV_MAX_FIELD;

void patron_csv_set_max_field(size_t bytes) { max_field = bytes; }

/* 1 when the LEN bytes at P are ASCII whose only NULs are the NFIELDS
 * that end its fields: every field is plain ASCII without NUL. Read eight
 * bytes at a time, since it runs over every byte of an import; 0 sends
 * the caller to look field by field (a rare false 0 only costs time). */
static int plain_ascii(const char *p, size_t len, size_t nfields)
{
	const uint64_t high = 0x8080808080808080ull, ones = 0x0101010101010101ull;
	size_t zeros = 0, i = 0;
	for (; i + 8 <= len; i += 8) {
		uint64_t w;
		memcpy(&w, p + i, 8);
		if (w & high)
			return 0;
		/* one high bit per zero byte (a 0x01 after a zero may add a
		 * false one); summed by multiplying the bits down into the top
		 * byte */
		zeros += (size_t)((((w - ones) & ~w & high) >> 7) * ones >> 56);
	}
	for (; i < len; i++) {
		if ((unsigned char)p[i] >= 0x80)
			return 0;
		zeros += p[i] == 0;
	}
	return zeros == nfields;
}

static void on_field(void *s, size_t len, void *data)
{
	patron_csv *r = data;
	if (!r->in_record) {
		r->in_record = 1;
		r->rec_start = r->line;
	}
	/* Past the limits, the rest of the record is not kept: the caller is
	 * told once this line is fed. */
	if (len > max_field && !r->over)
		r->over = 1;
	if (r->nf - r->rfirst[r->nr] >= PATRON_CSV_MAX_FIELDS && !r->over)
		r->over = 2;
	if (r->over)
		return;
	if (r->nf == r->capf) {
		r->capf = r->capf ? r->capf * 2 : 64;
		r->foff = patron_xrealloc(r->foff, r->capf * sizeof *r->foff);
		r->flen = patron_xrealloc(r->flen, r->capf * sizeof *r->flen);
	}
	r->foff[r->nf] = r->bytes.len;
	r->flen[r->nf] = len;
	r->nf++;
	patron_buf_add(&r->bytes, s ? s : "", s ? len : 0);
	patron_buf_add(&r->bytes, "", 1);	/* keep each field NUL-terminated */
}

static void on_record(int c, void *data)
{
	(void)c;
	patron_csv *r = data;
	if (r->nr == r->capr) {
		r->capr = r->capr ? r->capr * 2 : 8;
		r->rfirst = patron_xrealloc(r->rfirst, (r->capr + 1) * sizeof *r->rfirst);
		r->rline = patron_xrealloc(r->rline, r->capr * sizeof *r->rline);
	}
	r->rline[r->nr] = r->in_record ? r->rec_start : r->line;
	r->nr++;
	r->rfirst[r->nr] = r->nf;
	r->in_record = 0;
}

static patron_csv *reader_new(const char *name)
{
	patron_csv *r = calloc(1, sizeof *r);
	if (!r)
		return NULL;
	r->name = patron_xstrdup(name);
	r->line = 0;
	csv_init(&r->parser, CSV_STRICT | CSV_STRICT_FINI);
	r->rfirst = patron_xmalloc(sizeof *r->rfirst);
	r->rfirst[0] = 0;
	return r;
}

patron_csv *patron_csv_open(const char *path, patron_err *err)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		patron_err_set(err, "%s: cannot open: %s", path, strerror(errno));
		return NULL;
	}
	patron_csv *r = reader_new(path);
	r->file = f;
	struct stat st;
	if (fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode))
		r->size = (uint64_t)st.st_size;
	r->buf_cap = 1 << 20;
	r->buf = patron_xmalloc(r->buf_cap);
	return r;
}

patron_csv *patron_csv_open_mem(const char *name, const char *data, size_t len)
{
	patron_csv *r = reader_new(name);
	r->mem = data;
	r->mem_len = len;
	r->size = len;
	return r;
}

static void ahead_stop(patron_csv *r);

void patron_csv_close(patron_csv *r)
{
	if (!r)
		return;
	ahead_stop(r);
	if (r->file)
		fclose(r->file);
	csv_free(&r->parser);
	patron_buf_free(&r->bytes);
	free(r->foff);
	free(r->flen);
	free(r->rfirst);
	free(r->rline);
	free(r->out.field);
	free(r->out.len);
	free(r->buf);
	free(r->name);
	free(r);
}

const char *patron_csv_name(const patron_csv *r) { return r->name; }
uint64_t patron_csv_offset(const patron_csv *r)
{
	return r->ahead ? (r->ahead->cur ? r->ahead->cur->offset : 0) : r->offset;
}
uint64_t patron_csv_size(const patron_csv *r) { return r->size; }

/* Makes the window hold at least one whole line (or the rest of the file)
 * starting at buf_pos. Returns 0, or -1 on a read error. */
static int fill(patron_csv *r, patron_err *err)
{
	if (r->eof || memchr(r->buf + r->buf_pos, '\n', r->buf_len - r->buf_pos))
		return 0;
	for (;;) {
		memmove(r->buf, r->buf + r->buf_pos, r->buf_len - r->buf_pos);
		r->buf_len -= r->buf_pos;
		r->buf_pos = 0;
		if (r->buf_len == r->buf_cap) {
			if (r->buf_cap >= 16 * (size_t)max_field)
				return patron_err_set(err, "%s:%ld: a line of more than %zu MiB (a "
						      "field holds at most %zu bytes; --max-field-size "
						      "raises it)", r->name, r->line + 1,
						      r->buf_cap >> 20, (size_t)max_field);
			r->buf_cap *= 2;
			r->buf = patron_xrealloc(r->buf, r->buf_cap);
		}
		size_t before = r->buf_len;
		size_t got = fread(r->buf + r->buf_len, 1, r->buf_cap - r->buf_len, r->file);
		r->buf_len += got;
		if (got == 0) {
			if (ferror(r->file))
				return patron_err_set(err, "%s: read error: %s", r->name,
						      strerror(errno));
			r->eof = 1;
			return 0;
		}
		if (memchr(r->buf + before, '\n', got))
			return 0;
	}
}

static int parse_error(patron_csv *r, patron_err *err, int at_end)
{
	if (at_end)
		return patron_err_set(err, "%s:%ld: malformed CSV: the quoted field that "
				      "starts here is never closed", r->name, r->rec_start);
	return patron_err_set(err, "%s:%ld: malformed CSV: a quote inside an unquoted "
			      "field or text after a closing quote (RFC 4180 wants "
			      "\"\" for a quote inside a quoted field)", r->name, r->line);
}

/* A line of N bytes (its '\n' included) that starts a record and holds no
 * quote and no CR before its end: its fields split here at the commas and
 * trimmed of spaces and tabs, as libcsv does with unquoted fields, and
 * handed to the same callbacks. Most lines of an export are such, and
 * libcsv takes them a byte and a call at a time. 0 (nothing done) for any
 * other line. Not for a line of blanks, which libcsv skips. */
static int split_plain(patron_csv *r, const char *p, size_t n)
{
	if (r->in_record || n == 0 || p[n - 1] != '\n')
		return 0;
	size_t end = n - 1;
	if (end && p[end - 1] == '\r')
		end--;
	if (memchr(p, '"', end) || memchr(p, '\r', end))
		return 0;
	const char *s = p, *e = p + end;
	for (;;) {
		const char *comma = memchr(s, ',', (size_t)(e - s));
		const char *a = s, *b = comma ? comma : e;
		while (a < b && (*a == ' ' || *a == '\t'))
			a++;
		while (b > a && (b[-1] == ' ' || b[-1] == '\t'))
			b--;
		on_field((void *)a, (size_t)(b - a), r);
		if (!comma)
			break;
		s = comma + 1;
	}
	on_record('\n', r);
	return 1;
}

/* Feeds the next physical line. 1 when fed, 0 when input is exhausted. */
static int feed_line(patron_csv *r, patron_err *err)
{
	const char *p;
	size_t n;
	if (r->file) {
		if (fill(r, err) < 0)
			return -1;
		p = r->buf + r->buf_pos;
		n = r->buf_len - r->buf_pos;
	} else {
		p = r->mem + r->offset;
		n = r->mem_len - (size_t)r->offset;
	}
	if (n == 0)
		return 0;
	const char *nl = memchr(p, '\n', n);
	if (nl)
		n = (size_t)(nl - p) + 1;
	if (r->offset == 0 && n >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0) {
		p += 3;
		n -= 3;
		r->offset += 3;
		if (r->file)
			r->buf_pos += 3;
	}
	r->line++;
	/* nothing but blanks: libcsv makes no record of it */
	size_t b = 0;
	while (b < n && (p[b] == ' ' || p[b] == '\t'))
		b++;
	int blank = b == n || p[b] == '\n' || (p[b] == '\r' && (b + 1 == n || p[b + 1] == '\n'));
	if (!blank && split_plain(r, p, n))
		goto fed;
	if (!r->in_record && !blank) {
		r->in_record = 1;
		r->rec_start = r->line;
	}
	if (csv_parse(&r->parser, p, n, on_field, on_record, r) != n)
		return csv_error(&r->parser) == CSV_EPARSE ? parse_error(r, err, 0)
			: patron_err_set(err, "%s:%ld: %s", r->name, r->line,
					 csv_strerror(csv_error(&r->parser)));
fed:
	if (r->over == 1 || r->parser.entry_pos > max_field)
		return patron_err_set(err, "%s:%ld: a field of more than %zu bytes (the most a "
				      "field may hold; --max-field-size raises it)", r->name,
				      r->line, (size_t)max_field);
	if (r->over == 2)
		return patron_err_set(err, "%s:%ld: more than %d fields in a record",
				      r->name, r->line, PATRON_CSV_MAX_FIELDS);
	r->offset += n;
	if (r->file)
		r->buf_pos += n;
	return 1;
}

/* Forgets the records already handed out, keeping the fields of a record
 * still in progress (one whose quoted field spans lines). */
static void drop_handed_out(patron_csv *r)
{
	size_t from = r->rfirst[r->nr], keep = r->nf - from;
	size_t boff = keep ? r->foff[from] : r->bytes.len;
	if (boff) {
		memmove(r->bytes.data, r->bytes.data + boff, r->bytes.len - boff);
		r->bytes.len -= boff;
	}
	for (size_t k = 0; k < keep; k++) {
		r->foff[k] = r->foff[from + k] - boff;
		r->flen[k] = r->flen[from + k];
	}
	r->nf = keep;
	r->nr = r->next_rec = 0;
	r->rfirst[0] = 0;
}

static int ahead_next(patron_csv *r, patron_csv_record *rec, patron_err *err);

/* The next record of R, parsed here (or by the read-ahead thread). */
static int parse_next(patron_csv *r, patron_csv_record *rec, patron_err *err)
{
	if (r->next_rec >= r->nr)
		drop_handed_out(r);
	while (r->next_rec >= r->nr) {
		if (r->finished)
			return 0;
		int fed = feed_line(r, err);
		if (fed < 0)
			return -1;
		if (fed == 0) {
			r->finished = 1;
			if (csv_fini(&r->parser, on_field, on_record, r) != 0)
				return parse_error(r, err, 1);
		}
	}
	size_t i = r->next_rec++;
	size_t first = r->rfirst[i], n = r->rfirst[i + 1] - first;
	hand_out(&r->out, r->bytes.data, r->foff, r->flen, first, n, rec);
	rec->line = r->rline[i];
	rec->ascii = n && plain_ascii(r->bytes.data + r->foff[first],
				      r->foff[first + n - 1] + r->flen[first + n - 1] + 1 -
					      r->foff[first], n);
	return 1;
}

int patron_csv_next(patron_csv *r, patron_csv_record *rec, patron_err *err)
{
	return r->ahead ? ahead_next(r, rec, err) : parse_next(r, rec, err);
}

/* ---- reading ahead ---- */

static void block_add(ahead_block *b, const patron_csv_record *rec)
{
	if (b->nr == b->capr) {
		b->capr = b->capr ? 2 * b->capr : AHEAD_RECORDS;
		b->rfirst = patron_xrealloc(b->rfirst, (b->capr + 1) * sizeof *b->rfirst);
		b->rline = patron_xrealloc(b->rline, b->capr * sizeof *b->rline);
		b->ascii = patron_xrealloc(b->ascii, b->capr * sizeof *b->ascii);
	}
	if (b->nf + rec->n > b->capf) {
		b->capf = 2 * (b->nf + rec->n);
		b->foff = patron_xrealloc(b->foff, b->capf * sizeof *b->foff);
		b->flen = patron_xrealloc(b->flen, b->capf * sizeof *b->flen);
	}
	if (b->nr == 0)
		b->rfirst[0] = 0;
	for (size_t k = 0; k < rec->n; k++) {
		b->foff[b->nf] = b->bytes.len;
		b->flen[b->nf++] = rec->len[k];
		patron_buf_add(&b->bytes, rec->field[k], rec->len[k] + 1);
	}
	b->rline[b->nr] = rec->line;
	b->ascii[b->nr++] = rec->ascii;
	b->rfirst[b->nr] = b->nf;
}

static void *ahead_run(void *arg)
{
	patron_csv *r = arg;
	struct ahead *a = r->ahead;
	for (int end = 0; !end;) {
		pthread_mutex_lock(&a->mu);
		while (a->made - a->taken == AHEAD_BLOCKS && !a->stop)
			pthread_cond_wait(&a->cv, &a->mu);
		int stop = a->stop;
		pthread_mutex_unlock(&a->mu);
		if (stop)
			break;
		ahead_block *b = &a->blocks[a->made % AHEAD_BLOCKS];
		b->bytes.len = b->nf = b->nr = 0;
		while (b->nr < AHEAD_RECORDS && !b->end) {
			patron_csv_record rec;
			int rc = parse_next(r, &rec, &b->err);
			if (rc > 0)
				block_add(b, &rec);
			else
				b->end = rc == 0 ? 1 : -1;
		}
		b->offset = r->offset;
		end = b->end;
		pthread_mutex_lock(&a->mu);
		a->made++;
		pthread_cond_broadcast(&a->cv);
		pthread_mutex_unlock(&a->mu);
	}
	return NULL;
}

int patron_csv_read_ahead(patron_csv *r)
{
	if (r->ahead)
		return 0;
	struct ahead *a = patron_xcalloc(1, sizeof *a);
	pthread_mutex_init(&a->mu, NULL);
	pthread_cond_init(&a->cv, NULL);
	r->ahead = a;
	if (pthread_create(&a->thread, NULL, ahead_run, r) != 0) {
		/* no thread: read here, as before */
		pthread_cond_destroy(&a->cv);
		pthread_mutex_destroy(&a->mu);
		free(a);
		r->ahead = NULL;
		return -1;
	}
	return 0;
}

static int ahead_next(patron_csv *r, patron_csv_record *rec, patron_err *err)
{
	struct ahead *a = r->ahead;
	while (!a->cur || a->next_rec >= a->cur->nr) {
		if (a->cur) {
			if (a->cur->end < 0 && err)
				*err = a->cur->err;
			if (a->cur->end)
				return a->cur->end > 0 ? 0 : -1;
			pthread_mutex_lock(&a->mu);
			a->taken++;	/* handed back: the thread may refill it */
			pthread_cond_broadcast(&a->cv);
			pthread_mutex_unlock(&a->mu);
		}
		pthread_mutex_lock(&a->mu);
		while (a->made == a->taken)
			pthread_cond_wait(&a->cv, &a->mu);
		a->cur = &a->blocks[a->taken % AHEAD_BLOCKS];
		pthread_mutex_unlock(&a->mu);
		a->next_rec = 0;
	}
	const ahead_block *b = a->cur;
	size_t i = a->next_rec++, first = b->rfirst[i], n = b->rfirst[i + 1] - first;
	hand_out(&a->out, b->bytes.data, b->foff, b->flen, first, n, rec);
	rec->line = b->rline[i];
	rec->ascii = b->ascii[i];
	return 1;
}

static void ahead_stop(patron_csv *r)
{
	struct ahead *a = r->ahead;
	if (!a)
		return;
	pthread_mutex_lock(&a->mu);
	a->stop = 1;
	pthread_cond_broadcast(&a->cv);
	pthread_mutex_unlock(&a->mu);
	pthread_join(a->thread, NULL);
	for (int i = 0; i < AHEAD_BLOCKS; i++) {
		ahead_block *b = &a->blocks[i];
		patron_buf_free(&b->bytes);
		free(b->foff), free(b->flen), free(b->rfirst), free(b->rline), free(b->ascii);
	}
	free(a->out.field), free(a->out.len);
	pthread_cond_destroy(&a->cv);
	pthread_mutex_destroy(&a->mu);
	free(a);
	r->ahead = NULL;
}

void patron_csv_write_field(FILE *f, const char *s, size_t len)
{
	if (!memchr(s, ',', len) && !memchr(s, '"', len) && !memchr(s, '\n', len) &&
	    !memchr(s, '\r', len)) {
		fwrite(s, 1, len, f);
		return;
	}
	fputc('"', f);
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '"')
			fputc('"', f);
		fputc(s[i], f);
	}
	fputc('"', f);
}

void patron_csv_buf_row(patron_buf *b, const char *const *cells, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (i)
			patron_buf_add(b, ",", 1);
		const char *c = cells[i] ? cells[i] : "";
		/* Always quoted: a value can hold commas, quotes or line ends. */
		patron_buf_add(b, "\"", 1);
		for (const char *p = c; *p; p++) {
			if (*p == '"')
				patron_buf_add(b, "\"", 1);
			patron_buf_add(b, p, 1);
		}
		patron_buf_add(b, "\"", 1);
	}
	patron_buf_add(b, "\r\n", 2);
}

patron_csv *patron_csv_open_header(const char *path, patron_csv_record *header,
				   const char *want, patron_err *err)
{
	patron_csv *r = patron_csv_open(path, err);
	if (!r)
		return NULL;
	int rc = patron_csv_next(r, header, err);
	if (rc > 0)
		return r;
	if (rc == 0)
		patron_err_set(err, "%s: the file is empty (expected %s)", path, want);
	patron_csv_close(r);
	return NULL;
}
