/* A small SVG writer for the report's charts: a line chart (with a shaded
 * interval band and dashed series for forecasts), a heatmap with a value
 * in each cell, and a bar histogram with a marked threshold. Every chart
 * has axes, ticks on round numbers, labels and a legend, in the Okabe-Ito
 * colours that people with a colour-vision deficiency tell apart; text is
 * XML-escaped. A missing value is NAN: a line breaks there, a cell stays
 * blank. Charts are written whole or not at all: the caller says "no data"
 * when there is none. */
#ifndef PATRON_SVG_H
#define PATRON_SVG_H

#include <stddef.h>

#include "../util.h"

/* Text with & < > " ' escaped, for HTML and SVG alike. */
void patron_xml_text(patron_buf *b, const char *s);

typedef struct {
	const char *name;
	const double *y;	/* n values, NAN where there is none */
	const double *lo, *hi;	/* an interval band, or NULL */
	int dashed;		/* a forecast */
} patron_svg_series;

/* X labels (n of them, thinned to fit) under a chart of NS series. */
void patron_svg_lines(patron_buf *b, const char *title, const char *const *xlabels, size_t n,
		      const patron_svg_series *s, size_t ns, const char *unit);

/* ROWS x COLS values (NAN blank), each cell shaded by its value over the
 * largest and labelled by FMT ("%.0f", "%.0f%%"); row and column labels. */
void patron_svg_heatmap(patron_buf *b, const char *title, const double *v, size_t rows,
			size_t cols, const char *const *row_labels, const char *const *col_labels,
			const char *fmt, const char *row_axis, const char *col_axis);

/* Bars of COUNTS over N equal bins of [lo, hi]; a vertical mark at MARK
 * (NAN for none) labelled MARK_LABEL. */
void patron_svg_histogram(patron_buf *b, const char *title, const double *counts, size_t n,
			  double lo, double hi, double mark, const char *mark_label,
			  const char *x_axis);

/* A round step for an axis from 0 (or LO) to HI in about TICKS steps:
 * 1, 2 or 5 times a power of ten. */
double patron_svg_step(double lo, double hi, int ticks);

/* "950", "12.5k", "3.2M": short numbers for ticks. */
void patron_svg_number(char *buf, size_t cap, double v);

#endif
