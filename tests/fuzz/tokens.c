/* What arrives in a URL or a header of patron serve: tracking tokens,
 * Stripe-Signature and Shopify's HMAC header, and the HTML whose links are
 * rewritten. Nothing crashes; nothing forged is accepted; a rewritten
 * email still has its pixel and every token it carries checks. */
#include <string.h>

#include "../../core/serve/hooks.h"
#include "../../core/serve/tokens.h"
#include "common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const unsigned char key[32] = "fuzz-key-fuzz-key-fuzz-key-fuzz";
	char *text = text_of(data, size);
	int64_t id;
	char url[PATRON_TRACK_URL_MAX + 1];
	/* Random bytes never carry a valid MAC (2^-128). */
	if (patron_track_check(key, text, 0, &id, url, sizeof url) ||
	    patron_track_check(key, text, 1, &id, url, sizeof url))
		abort();
	int64_t t;
	patron_err why;
	if (patron_stripe_verify("whsec_fuzz", "{}", 2, text, 1700000000, 300, &t, &why))
		abort();
	if (patron_shopify_verify("secret", "{}", 2, text))
		abort();
	patron_buf out = {0};
	patron_track_html(key, "https://t.example", 9, text, NULL, &out);
	if (!strstr(out.data, "/t/o/"))
		abort();
	/* Every link the rewrite made checks back (when the input does not
	 * itself hold the server's address, whose links are left as they are). */
	for (const char *p = strstr(text, "https://t.example") ? "" : out.data;
	     (p = strstr(p, "https://t.example/t/c/"));) {
		p += strlen("https://t.example/t/c/");
		size_t n = strcspn(p, "\"'");
		char *tok = strndup(p, n);
		if (!patron_track_check(key, tok, 1, &id, url, sizeof url) || id != 9)
			abort();
		free(tok);
	}
	patron_buf_free(&out);
	free(text);
	return 0;
}
