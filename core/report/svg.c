#include "svg.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "../template.h"

/* Okabe and Ito's palette: blue, orange, bluish green, vermillion,
 * reddish purple, sky blue; the band is the series' colour, faint. */
static const char *const palette[] = {"#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7",
				      "#56B4E9"};
#define NPALETTE (sizeof palette / sizeof *palette)
#define MARK_COLOUR "#D55E00"
#define INK "#222222"
#define GRID "#dddddd"

#define W 720.0
#define H 260.0
#define LEFT 64.0
#define RIGHT 16.0
#define TOP 30.0
#define BOTTOM 52.0

void patron_xml_text(patron_buf *b, const char *s)
{
	/* The HTML escapes of the templates, and a space for each control
	 * character, which XML 1.0 does not allow (so the page parses as XML). */
	while (s && *s) {
		size_t n = 0;
		while (s[n] && ((unsigned char)s[n] >= 0x20 || s[n] == '\n' || s[n] == '\t'))
			n++;
		patron_html_escape(b, s, n);
		s += n;
		if (*s) {
			patron_buf_adds(b, " ");
			s++;
		}
	}
}

double patron_svg_step(double lo, double hi, int ticks)
{
	double span = hi - lo;
	if (!(span > 0) || !isfinite(span))
		return 1;
	double raw = span / (ticks > 0 ? ticks : 5);
	double p = pow(10, floor(log10(raw)));
	double m = raw / p;
	return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * p;
}

void patron_svg_number(char *buf, size_t cap, double v)
{
	double a = fabs(v);
	if (a >= 1e9)
		snprintf(buf, cap, "%.3gG", v / 1e9);
	else if (a >= 1e6)
		snprintf(buf, cap, "%.3gM", v / 1e6);
	else if (a >= 1e4)
		snprintf(buf, cap, "%.3gk", v / 1e3);
	else if (a == floor(a))
		snprintf(buf, cap, "%.0f", v);
	else
		snprintf(buf, cap, "%.3g", v);
}

static void open_svg(patron_buf *b, double w, double h, const char *title)
{
	patron_buf_printf(b, "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" "
			  "viewBox=\"0 0 %.0f %.0f\" width=\"%.0f\" height=\"%.0f\" role=\"img\" "
			  "aria-label=\"", w, h, w, h);
	patron_xml_text(b, title);
	patron_buf_adds(b, "\"><title>");
	patron_xml_text(b, title);
	patron_buf_printf(b, "</title><text x=\"%.1f\" y=\"18\" font-size=\"14\" font-weight="
			  "\"bold\" fill=\"" INK "\">", LEFT);
	patron_xml_text(b, title);
	patron_buf_adds(b, "</text>");
}

static void text_at(patron_buf *b, double x, double y, const char *anchor, int size,
		    const char *s)
{
	patron_buf_printf(b, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\" font-size=\"%d\" "
			  "fill=\"" INK "\">", x, y, anchor, size);
	patron_xml_text(b, s);
	patron_buf_adds(b, "</text>");
}

/* The y axis from LO to HI: round ticks, grid lines and labels. Returns
 * the axis' ends in *A and *Z. */
static void y_axis(patron_buf *b, double lo, double hi, double *a, double *z, double top,
		   double bottom, const char *unit)
{
	if (!(hi > lo))
		hi = lo + 1;
	double step = patron_svg_step(lo, hi, 5);
	*a = floor(lo / step) * step;
	*z = ceil(hi / step) * step;
	if (!(*z > *a))
		*z = *a + step;
	for (int i = 0; i <= 50; i++) {
		double v = *a + i * step;
		if (v > *z + step / 2)
			break;
		double y = bottom - (v - *a) / (*z - *a) * (bottom - top);
		char t[32];
		patron_svg_number(t, sizeof t, fabs(v) < step / 1e6 ? 0 : v);
		patron_buf_printf(b, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" "
				  "stroke=\"" GRID "\"/>", LEFT, W - RIGHT, y, y);
		text_at(b, LEFT - 6, y + 4, "end", 11, t);
	}
	if (unit && *unit) {
		patron_buf_printf(b, "<text x=\"12\" y=\"%.1f\" font-size=\"11\" fill=\"" INK "\" "
				  "transform=\"rotate(-90 12 %.1f)\" text-anchor=\"middle\">",
				  (top + bottom) / 2, (top + bottom) / 2);
		patron_xml_text(b, unit);
		patron_buf_adds(b, "</text>");
	}
}

static double finite_or_nan(double v) { return isfinite(v) ? v : NAN; }

void patron_svg_lines(patron_buf *b, const char *title, const char *const *xlabels, size_t n,
		      const patron_svg_series *s, size_t ns, const char *unit)
{
	double lo = 0, hi = -INFINITY;
	for (size_t k = 0; k < ns; k++)
		for (size_t i = 0; i < n; i++) {
			double vals[3] = {finite_or_nan(s[k].y[i]),
					  s[k].lo ? finite_or_nan(s[k].lo[i]) : NAN,
					  s[k].hi ? finite_or_nan(s[k].hi[i]) : NAN};
			for (int j = 0; j < 3; j++)
				if (!isnan(vals[j])) {
					lo = fmin(lo, vals[j]);
					hi = fmax(hi, vals[j]);
				}
		}
	if (!isfinite(hi))
		hi = lo + 1;
	open_svg(b, W, H, title);
	double top = TOP, bottom = H - BOTTOM, a, z;
	y_axis(b, lo, hi, &a, &z, top, bottom, unit);
	double plotw = W - RIGHT - LEFT - 12;
#define XS(i) (n > 1 ? LEFT + 6 + (double)(i) * plotw / (double)(n - 1) : LEFT + 6 + plotw / 2)
#define YS(v) (bottom - ((v) - a) / (z - a) * (bottom - top))
	patron_buf_printf(b, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" stroke=\""
			  INK "\"/>", LEFT, W - RIGHT, bottom, bottom);
	/* x labels: as many as fit, 90 px apart */
	size_t every = (size_t)ceil((double)n / fmax(1, floor(plotw / 90)));
	if (!every)
		every = 1;
	for (size_t i = 0; i < n; i += every) {
		patron_buf_printf(b, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" "
				  "stroke=\"" INK "\"/>", XS(i), XS(i), bottom, bottom + 4);
		text_at(b, XS(i), bottom + 16, "middle", 11, xlabels[i] ? xlabels[i] : "");
	}
	for (size_t k = 0; k < ns; k++) {
		const char *colour = palette[k % NPALETTE];
		if (s[k].lo && s[k].hi) {	/* the band: upper edge forward, lower back */
			patron_buf_printf(b, "<path fill=\"%s\" fill-opacity=\"0.18\" stroke=\"none\" "
					  "d=\"", colour);
			int started = 0;
			for (size_t i = 0; i < n; i++)
				if (isfinite(s[k].lo[i]) && isfinite(s[k].hi[i])) {
					patron_buf_printf(b, "%s%.1f %.1f ", started ? "L" : "M", XS(i),
							  YS(s[k].hi[i]));
					started = 1;
				}
			for (size_t i = n; i-- > 0;)
				if (isfinite(s[k].lo[i]) && isfinite(s[k].hi[i]))
					patron_buf_printf(b, "L%.1f %.1f ", XS(i), YS(s[k].lo[i]));
			patron_buf_adds(b, started ? "Z\"/>" : "\"/>");
		}
		patron_buf_printf(b, "<path fill=\"none\" stroke=\"%s\" stroke-width=\"2\"%s d=\"",
				  colour, s[k].dashed ? " stroke-dasharray=\"6 4\"" : "");
		int pen = 0;
		for (size_t i = 0; i < n; i++) {
			double v = finite_or_nan(s[k].y[i]);
			if (isnan(v)) {
				pen = 0;
				continue;
			}
			patron_buf_printf(b, "%s%.1f %.1f ", pen ? "L" : "M", XS(i), YS(v));
			pen = 1;
		}
		patron_buf_adds(b, "\"/>");
		/* a point with no neighbour would draw nothing: a dot */
		for (size_t i = 0; i < n; i++) {
			double v = finite_or_nan(s[k].y[i]);
			int left = i > 0 && isfinite(s[k].y[i - 1]);
			int right = i + 1 < n && isfinite(s[k].y[i + 1]);
			if (!isnan(v) && !left && !right)
				patron_buf_printf(b, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"%s\"/>",
						  XS(i), YS(v), colour);
		}
		/* the legend, along the bottom */
		double lx = LEFT + (double)k * 170;
		patron_buf_printf(b, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" stroke="
				  "\"%s\" stroke-width=\"3\"%s/>", lx, lx + 18, H - 12, H - 12, colour,
				  s[k].dashed ? " stroke-dasharray=\"6 4\"" : "");
		text_at(b, lx + 24, H - 8, "start", 11, s[k].name);
	}
#undef XS
#undef YS
	patron_buf_adds(b, "</svg>");
}

/* From near white to dark blue as T goes from 0 to 1. */
static void shade(double t, char out[8])
{
	static const double from[3] = {0xf7, 0xfb, 0xff}, to[3] = {0x08, 0x30, 0x6b};
	t = fmax(0, fmin(1, t));
	int c[3];
	for (int i = 0; i < 3; i++)
		c[i] = (int)lround(from[i] + (to[i] - from[i]) * t);
	snprintf(out, 8, "#%02x%02x%02x", c[0], c[1], c[2]);
}

void patron_svg_heatmap(patron_buf *b, const char *title, const double *v, size_t rows,
			size_t cols, const char *const *row_labels, const char *const *col_labels,
			const char *fmt, const char *row_axis, const char *col_axis)
{
	const double left = 150, top = 60;
	double cw = cols ? fmin(56, (W - left - RIGHT) / (double)cols) : 56, ch = 22;
	double h = top + ch * (double)rows + 36;
	double max = 0;
	for (size_t i = 0; i < rows * cols; i++)
		if (isfinite(v[i]))
			max = fmax(max, v[i]);
	open_svg(b, W, h, title);
	if (col_axis)
		text_at(b, left, 36, "start", 11, col_axis);
	if (row_axis)
		text_at(b, 8, top - 6, "start", 11, row_axis);
	for (size_t j = 0; j < cols; j++)
		text_at(b, left + cw * ((double)j + 0.5), top - 6, "middle", 11,
			col_labels[j] ? col_labels[j] : "");
	for (size_t i = 0; i < rows; i++) {
		double y = top + ch * (double)i;
		text_at(b, left - 6, y + ch / 2 + 4, "end", 11, row_labels[i] ? row_labels[i] : "");
		for (size_t j = 0; j < cols; j++) {
			double x = v[i * cols + j];
			if (!isfinite(x))
				continue;
			double t = max > 0 ? x / max : 0;
			char fill[8], label[32];
			shade(t, fill);
			patron_buf_printf(b, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
					  "fill=\"%s\" stroke=\"#ffffff\"/>", left + cw * (double)j, y,
					  cw, ch, fill);
			snprintf(label, sizeof label, fmt, x);
			patron_buf_printf(b, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" "
					  "font-size=\"10\" fill=\"%s\">", left + cw * ((double)j + 0.5),
					  y + ch / 2 + 4, t > 0.55 ? "#ffffff" : INK);
			patron_xml_text(b, label);
			patron_buf_adds(b, "</text>");
		}
	}
	patron_buf_adds(b, "</svg>");
}

void patron_svg_histogram(patron_buf *b, const char *title, const double *counts, size_t n,
			  double lo, double hi, double mark, const char *mark_label,
			  const char *x_axis)
{
	double max = 0;
	for (size_t i = 0; i < n; i++)
		if (isfinite(counts[i]))
			max = fmax(max, counts[i]);
	open_svg(b, W, H, title);
	double top = TOP, bottom = H - BOTTOM, a, z;
	y_axis(b, 0, max > 0 ? max : 1, &a, &z, top, bottom, "customers");
	double plotw = W - RIGHT - LEFT;
	double bw = n ? plotw / (double)n : plotw;
	for (size_t i = 0; i < n; i++) {
		double c = isfinite(counts[i]) && counts[i] > 0 ? counts[i] : 0;
		double y = bottom - (c - a) / (z - a) * (bottom - top);
		patron_buf_printf(b, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
				  "fill=\"%s\"/>", LEFT + bw * (double)i + 1, y, fmax(bw - 2, 1),
				  bottom - y, palette[0]);
	}
	patron_buf_printf(b, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" stroke=\""
			  INK "\"/>", LEFT, W - RIGHT, bottom, bottom);
	size_t every = n > 10 ? (n + 9) / 10 : 1;
	for (size_t i = 0; i <= n; i += every) {
		char t[32];
		patron_svg_number(t, sizeof t, lo + (hi - lo) * (double)i / (double)(n ? n : 1));
		text_at(b, LEFT + bw * (double)i, bottom + 16, "middle", 11, t);
	}
	if (x_axis)
		text_at(b, LEFT + plotw / 2, H - 10, "middle", 11, x_axis);
	if (isfinite(mark) && hi > lo && mark >= lo && mark <= hi) {
		double x = LEFT + (mark - lo) / (hi - lo) * plotw;
		patron_buf_printf(b, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" stroke="
				  "\"" MARK_COLOUR "\" stroke-width=\"2\" stroke-dasharray=\"5 3\"/>",
				  x, x, top, bottom);
		if (mark_label)
			text_at(b, x - 4, top + 10, "end", 11, mark_label);
	}
	patron_buf_adds(b, "</svg>");
}
