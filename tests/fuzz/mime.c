/* The email composer: any subject, name and bodies give an email whose
 * header lines hold only printable ASCII and end in CRLF. */
#include "../../core/mime.h"
#include "common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = text_of(data, size);
	/* The input split in three at its first two newlines: subject, name, body. */
	char *name = strchr(s, '\n'), *body = NULL;
	if (name) {
		*name++ = '\0';
		body = strchr(name, '\n');
		if (body)
			*body++ = '\0';
	}
	patron_email e = {.from = "Shop <hi@shop.example>", .to = "ada@example.com",
			  .to_name = name, .subject = s, .text = body ? body : "",
			  .html = body, .message_id = "<k@shop.example>", .date = 1790000000};
	size_t len;
	char *mail = patron_mime_compose(&e, &len);
	/* Headers end at the first empty line. */
	char *end = strstr(mail, "\r\n\r\n");
	if (!end)
		abort();
	for (char *c = mail; c < end; c++)
		if ((*c < 0x20 && *c != '\r' && *c != '\n' && *c != '\t') || *c == 0x7f ||
		    (*c == '\n' && (c == mail || c[-1] != '\r')))
			abort();	/* a header byte a mail server may reject */
	patron_buf id = {0};
	patron_message_id(&id, s, "shop.example");
	patron_buf_free(&id);
	free(mail);
	free(s);
	return 0;
}
