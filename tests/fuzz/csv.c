/* The CSV reader: any bytes either give records or one error; every record
 * it gives has its fields NUL-terminated and counted. */
#include "../../core/csv.h"
#include "common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	patron_csv *r = patron_csv_open_mem("fuzz.csv", (const char *)data, size);
	patron_csv_record rec;
	patron_err err;
	int rc;
	while ((rc = patron_csv_next(r, &rec, &err)) == 1)
		for (size_t i = 0; i < rec.n; i++)
			if (strlen(rec.field[i]) > rec.len[i])
				abort();	/* a field longer than it says */
	patron_csv_close(r);
	return 0;
}
