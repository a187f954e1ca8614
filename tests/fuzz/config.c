/* The config reader: any patron.conf text loads or is refused with a
 * reason, within its instruction and memory limits. */
#include "../../core/config.h"
#include "common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *path = scratch_file("patron.conf", data, size);
	patron_config *c;
	patron_err err;
	if (patron_config_load(path, 1, &c, &err) == 0) {
		patron_buf names = {0};
		patron_config_channel_names(c, &names);
		patron_buf_free(&names);
		patron_config_plugin(c, "segment");
		patron_config_free(c);
	}
	return 0;
}
