/* The template parser and renderer: any template text either loads with a
 * reason or renders against a customer without crashing. */
#include <jansson.h>

#include "../../core/template.h"
#include "common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	scratch_file("t.tmpl", data, size);
	patron_template *t;
	patron_err err;
	if (patron_template_load(scratch_dir(), "t", &t, &err) < 0)
		return 0;
	json_t *ctx = json_pack("{s:{s:s, s:s, s:[{s:s}, {s:s}]}, s:{s:s, s:b}, s:s}",
				"customer", "first_name", "Ada", "email", "ada@example.com",
				"recommendations", "name", "Tea <b>", "name", "Cup", "vars",
				"discount", "15%", "vip", 1, "unsubscribe_url", "https://x.example/u");
	patron_rendered out;
	if (patron_template_render(t, ctx, &out, &err) == 0)
		patron_rendered_free(&out);
	json_decref(ctx);
	patron_template_free(t);
	return 0;
}
