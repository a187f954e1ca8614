/* Reading CSV files (RFC 4180) one record at a time, with the line number
 * each record starts on, so every complaint can name FILE:LINE.
 * Parsing is libcsv's; this file adds line tracking, the UTF-8 byte-order
 * mark, streaming from a file and the error wording. */
#ifndef PATRON_CSV_H
#define PATRON_CSV_H

#include <stdint.h>
#include <stdio.h>

#include "util.h"

typedef struct patron_csv patron_csv;

/* The current record, valid until the next call to patron_csv_next.
 * Fields are NUL-terminated; unquoted fields have surrounding blanks trimmed. */
typedef struct {
	const char **field;
	size_t *len;
	size_t n;
	long line;	/* line the record starts on, 1-based */
	int ascii;	/* every field is ASCII without a NUL byte */
} patron_csv_record;

/* The most bytes a field may hold (1 MiB unless set) and the most fields a
 * record may have: beyond either, a file is refused with its line, and a
 * reader's memory stays bounded by them however large the file. A line
 * may hold at most 16 fields' worth. */
#define PATRON_CSV_MAX_FIELD (1u << 20)
#define PATRON_CSV_MAX_FIELDS 10000
void patron_csv_set_max_field(size_t bytes);

/* Opens PATH for reading; NULL with err filled when it cannot. */
patron_csv *patron_csv_open(const char *path, patron_err *err);
/* Reads from a caller-owned buffer, which must outlive the reader. NAME is
 * used in messages. */
patron_csv *patron_csv_open_mem(const char *name, const char *data, size_t len);
void patron_csv_close(patron_csv *r);

/* 1 with a record in *rec, 0 at end of file, -1 on malformed input or a read
 * error (err says "NAME:LINE: ..."). */
int patron_csv_next(patron_csv *r, patron_csv_record *rec, patron_err *err);

/* Opens PATH and reads its header into *HEADER: NULL when it cannot, or
 * when the file is empty ("PATH: the file is empty (expected WANT)"). */
patron_csv *patron_csv_open_header(const char *path, patron_csv_record *header,
				   const char *want, patron_err *err);

/* From now on, records are parsed by a thread of R's own, a few thousand
 * ahead of the caller, so parsing and the caller's work share two cores.
 * What patron_csv_next returns is unchanged (records, then the end or the
 * error where the file has it). 0, or -1 when no thread could be made
 * (R then goes on reading in the caller's thread). */
int patron_csv_read_ahead(patron_csv *r);

const char *patron_csv_name(const patron_csv *r);
/* Bytes consumed so far and the file's size (0 when unknown), for progress. */
uint64_t patron_csv_offset(const patron_csv *r);
uint64_t patron_csv_size(const patron_csv *r);

/* Writes one field, quoted only when RFC 4180 needs it. */
void patron_csv_write_field(FILE *f, const char *s, size_t len);
/* Appends one record of N cells (NULL: empty), each quoted, CRLF-ended:
 * a CSV made in memory for an import (patron_import_mem). */
void patron_csv_buf_row(patron_buf *b, const char *const *cells, size_t n);

#endif
