/* Customers' emails: any bytes parse without a crash or a read past their
 * end, into valid UTF-8, with a reply no longer than the text; any header
 * value decodes to valid UTF-8; entities are found in any text. */
#include "../../core/inbox/entities.h"
#include "../../core/inbox/mail.h"
#include "common.h"

static int valid_utf8(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	while (*p) {
		size_t len = p[0] < 0x80 ? 1 : p[0] >= 0xc2 && p[0] <= 0xdf ? 2
			     : p[0] >= 0xe0 && p[0] <= 0xef ? 3 : p[0] >= 0xf0 && p[0] <= 0xf4 ? 4 : 0;
		if (!len)
			return 0;
		for (size_t i = 1; i < len; i++)
			if ((p[i] & 0xc0) != 0x80)
				return 0;
		p += len;
	}
	return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* an exact-size copy: a read past the end is caught */
	char *copy = malloc(size ? size : 1);
	if (!copy)
		abort();
	memcpy(copy, data, size);
	patron_mail m;
	patron_mail_parse(copy, size, &m);
	if (!valid_utf8(m.subject) || !valid_utf8(m.text) || !valid_utf8(m.reply) ||
	    (m.from_name && !valid_utf8(m.from_name)) || (m.from_addr && !valid_utf8(m.from_addr)))
		abort();
	if (strlen(m.reply) > strlen(m.text))
		abort();
	if (m.message_id && (m.message_id[0] != '<' || m.message_id[strlen(m.message_id) - 1] != '>'))
		abort();
	patron_mail_free(&m);
	patron_buf b = {0};
	patron_mail_decode_header(copy, size, &b);
	if (!valid_utf8(b.data))
		abort();
	patron_buf_free(&b);
	char *s = text_of(data, size);
	patron_mail_date(s);
	patron_entity e[16];	/* no store: nothing is looked up */
	size_t n = patron_entities(NULL, NULL, 0, s, 1796000000, e, 16);
	for (size_t i = 0; i < n; i++)
		if (!e[i].value[0] || e[i].id)
			abort();
	char base[256];
	patron_mail_base_subject(s, base, sizeof base);
	free(s);
	free(copy);
	return 0;
}
