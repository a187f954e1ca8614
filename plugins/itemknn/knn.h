/* Item-item cosine similarity on a sparse customer x product matrix, each
 * item keeping its most similar neighbours. Pure maths on plain arrays:
 * the itemknn plugin and the unit tests use it.
 *
 * sim(i, j) = sum_u w_ui w_uj / (|w_i| |w_j| + shrink), over the customers u
 * who bought both; |w_i| is the Euclidean norm of item i's column. A pair
 * nobody bought together has no entry (similarity 0). */
#ifndef PATRON_KNN_H
#define PATRON_KNN_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
	size_t items;
	size_t *off;		/* items + 1: item i's neighbours at off[i] .. off[i+1]-1 */
	uint32_t *col;		/* neighbour items, ascending within an item */
	double *sim;
} knn_model;

/* From the CSR matrix (ROWS rows, ITEMS columns, OFFSETS/COLS as in
 * patron_graph, W one weight per entry): keeps the NEIGHBOURS most similar
 * items of each (0: all), ties to the lower item. Uses THREADS threads
 * (1 or 2). -1 when out of memory. */
int knn_build(size_t rows, size_t items, const size_t *offsets, const uint32_t *cols,
	      const double *w, size_t neighbours, double shrink, size_t threads, knn_model *m);
void knn_free(knn_model *m);

/* sim(i, j), 0 when j is not among i's neighbours. */
double knn_similarity(const knn_model *m, uint32_t i, uint32_t j);

#endif
