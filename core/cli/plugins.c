/* patron plugins [check FILE.so...]: what plugins there are, and why not. */
#include <stdio.h>
#include <string.h>

#include "../plugin.h"
#include "cli.h"

static json_t *file_json(const patron_plugin_file *f)
{
	if (!f->desc)
		return json_pack("{s:s, s:b, s:s}", "file", f->path, "loaded", 0, "refused",
				 f->refused + strlen(f->path) + 2);
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:b}", "name", f->desc->name, "kind",
			 patron_kind_name(f->desc->kind), "version",
			 f->desc->version ? f->desc->version : "", "description",
			 f->desc->description ? f->desc->description : "", "file", f->path,
			 "loaded", 1);
}

static int list(cli *c, const patron_plugins *ps, int checking)
{
	int refused = 0;
	json_t *all = c->json ? json_array() : NULL;
	for (size_t i = 0; i < ps->n; i++) {
		const patron_plugin_file *f = &ps->files[i];
		refused += f->desc == NULL;
		if (all) {
			json_array_append_new(all, file_json(f));
		} else if (f->desc) {
			printf("%-22s %-12s %-8s %s\n  %s\n", f->desc->name,
			       patron_kind_name(f->desc->kind), f->desc->version ? f->desc->version : "",
			       f->desc->description ? f->desc->description : "", f->path);
		} else {
			printf("refused: %s\n", f->refused);
		}
	}
	if (all)
		cli_print_json(all);
	else if (ps->n == 0)
		printf("no plugins found (looked in $PATRON_PLUGIN_PATH, %s/plugins and the "
		       "install prefix)\n", c->exe_dir);
	/* Listing succeeds whatever it finds; checking fails on a refusal. */
	return checking && refused ? EXIT_FAIL : EXIT_OK;
}

static int run(cli *c, int argc, char **argv)
{
	patron_plugins ps = {0};
	int rc;
	if (argc > 1 && strcmp(argv[1], "check") == 0) {
		if (argc < 3)
			return cli_usage(&cmd_plugins, "check: expected a plugin file");
		for (int i = 2; i < argc; i++)
			patron_plugins_load_file(&ps, argv[i]);
		/* A loadable plugin must also accept its options from the config.
		 * No store is opened: init has no business reading it. */
		patron_config *cfg = cli_config(c);
		if (!cfg) {
			patron_plugins_free(&ps);
			return EXIT_FAIL;
		}
		for (size_t i = 0; i < ps.n; i++) {
			patron_plugin_file *f = &ps.files[i];
			if (!f->desc)
				continue;
			char job[128];
			snprintf(job, sizeof job, "%.*s", (int)strcspn(f->desc->name, "."),
				 f->desc->name);
			patron_run_env env = {.config = cfg, .job = job, .now = c->now};
			patron_err err;
			if (patron_plugin_init_check(f, &env, &err) < 0) {
				patron_buf b = {0};
				patron_buf_printf(&b, "%s: %s", f->path, err.msg);
				f->refused = b.data;
				f->desc = NULL;
			}
		}
		patron_config_free(cfg);
		rc = list(c, &ps, 1);
	} else if (argc > 1) {
		return cli_usage(&cmd_plugins, "unexpected argument \"%s\"", argv[1]);
	} else {
		patron_plugins_load(&ps, c->exe_dir);
		rc = list(c, &ps, 0);
	}
	patron_plugins_free(&ps);
	return rc;
}

const cli_command cmd_plugins = {
	"plugins", run, "list the plugins found, or check plugin files",
	"usage: patron plugins [--json]\n"
	"       patron plugins check FILE.so...\n"
	"\n"
	"Lists every plugin Patron finds: its name (JOB.NAME), kind, version, description\n"
	"and file, or why the file was refused. Plugins are looked for in each folder of\n"
	"$PATRON_PLUGIN_PATH (colon-separated), then beside the patron binary (plugins/,\n"
	"../lib/patron/plugins) and in the install prefix; the first of two files with\n"
	"one name wins.\n"
	"\n"
	"`check` loads the given files and initialises each with its options from the\n"
	"config; it exits 1 if any is refused.\n",
};
