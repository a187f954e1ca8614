/* patron init: create the store, or bring an existing one up to date. */
#include <stdio.h>
#include <sys/stat.h>

#include "cli.h"

static int run(cli *c, int argc, char **argv)
{
	if (argc > 1)
		return cli_usage(&cmd_init, "unexpected argument \"%s\"", argv[1]);
	struct stat st;
	int existed = stat(c->db_path, &st) == 0;
	if (!cli_store(c))
		return EXIT_FAIL;
	if (c->json) {
		cli_print_json(json_pack("{s:s, s:b, s:i}", "store", c->db_path, "created",
					 !existed, "schema", PATRON_SCHEMA_VERSION));
		return EXIT_OK;
	}
	printf("%s %s (schema %d)\n", existed ? "store is ready:" : "created store", c->db_path,
	       PATRON_SCHEMA_VERSION);
	return EXIT_OK;
}

const cli_command cmd_init = {
	"init", run, "create the store (or migrate an existing one)",
	"usage: patron [--db PATH] init\n"
	"\n"
	"Creates the store, an SQLite file (default ./patron.db), or brings an older\n"
	"store's schema up to date. Running it again changes nothing.\n",
};
