/* patron backup, patron restore, patron check: the store copied while it
 * is in use (encrypted if asked), put back whole or not at all, and
 * checked. */
#include <stdio.h>
#include <string.h>

#include "../backup.h"
#include "cli.h"

/* --key-file FILE and --passphrase-file FILE into K; 1 when argv[*i] was
 * one, -1 when its value is missing (the usage error printed). */
static int key_option(const cli_command *cmd, int argc, char **argv, int *i,
		      patron_backup_key *k)
{
	const char *v;
	int r = cli_opt_value(argc, argv, i, "--key-file", &v);
	if (r == 0 && (r = cli_opt_value(argc, argv, i, "--passphrase-file", &v)) > 0) {
		k->passphrase_file = v;
		return 1;
	}
	if (r > 0)
		k->key_file = v;
	if (r < 0)
		return cli_usage(cmd, "%s needs a file", argv[*i]), -1;
	return r;
}

static int backup(cli *c, int argc, char **argv)
{
	patron_backup_key k = {0};
	const char *dest = NULL, *new_key = NULL;
	int encrypt = 0;
	for (int i = 1; i < argc; i++) {
		int r = key_option(&cmd_backup, argc, argv, &i, &k);
		if (r < 0)
			return EXIT_USAGE;
		if (r > 0)
			continue;
		const char *v;
		if ((r = cli_opt_value(argc, argv, &i, "--new-key", &v)) != 0) {
			if (r < 0)
				return cli_usage(&cmd_backup, "--new-key needs a file");
			new_key = v;
		} else if (strcmp(argv[i], "--encrypt") == 0) {
			encrypt = 1;
		} else if (argv[i][0] == '-' && argv[i][1]) {
			return cli_usage(&cmd_backup, "unknown option \"%s\"", argv[i]);
		} else if (!dest) {
			dest = argv[i];
		} else {
			return cli_usage(&cmd_backup, "one backup file at a time");
		}
	}
	patron_err err;
	if (new_key) {
		if (dest || k.key_file || k.passphrase_file)
			return cli_usage(&cmd_backup, "--new-key FILE makes a key and nothing else");
		if (patron_backup_new_key(new_key, &err) < 0)
			return cli_fail(EXIT_FAIL, "%s", err.msg);
		printf("wrote a new backup key to %s (readable by you only; keep a copy apart "
		       "from the backups: without it they cannot be restored)\n", new_key);
		return EXIT_OK;
	}
	if (!dest)
		return cli_usage(&cmd_backup, "expected the backup file to write");
	if (k.key_file && k.passphrase_file)
		return cli_usage(&cmd_backup, "--key-file or --passphrase-file, not both");
	if (encrypt && !k.key_file && !k.passphrase_file)
		return cli_usage(&cmd_backup, "--encrypt needs --key-file FILE or "
				 "--passphrase-file FILE");
	patron_store *s = cli_store(c);
	if (!s)
		return EXIT_FAIL;
	if (patron_backup(s, dest, &k, &err) < 0)
		return cli_fail(EXIT_FAIL, "%s", err.msg);
	printf("backed up %s to %s%s\n", c->db_path, dest,
	       k.key_file || k.passphrase_file ? " (encrypted)" : "");
	return EXIT_OK;
}

static int restore(cli *c, int argc, char **argv)
{
	patron_backup_key k = {0};
	const char *src = NULL;
	for (int i = 1; i < argc; i++) {
		int r = key_option(&cmd_restore, argc, argv, &i, &k);
		if (r < 0)
			return EXIT_USAGE;
		if (r > 0)
			continue;
		if (argv[i][0] == '-' && argv[i][1])
			return cli_usage(&cmd_restore, "unknown option \"%s\"", argv[i]);
		if (src)
			return cli_usage(&cmd_restore, "one backup file at a time");
		src = argv[i];
	}
	if (!src)
		return cli_usage(&cmd_restore, "expected the backup file to restore");
	if (k.key_file && k.passphrase_file)
		return cli_usage(&cmd_restore, "--key-file or --passphrase-file, not both");
	patron_err err;
	if (patron_restore(c->db_path, src, &k, c->busy_ms, &err) < 0)
		return cli_fail(EXIT_FAIL, "%s", err.msg);
	/* Opened as every command opens it: an older backup is brought up to
	 * date, and the summary says what came back. */
	patron_store *s = cli_store(c);
	if (!s)
		return EXIT_FAIL;
	sqlite3_stmt *st;
	long long customers = 0, orders = 0;
	if (sqlite3_prepare_v2(patron_store_db(s), "SELECT (SELECT count(*) FROM customers), "
			       "(SELECT count(*) FROM orders)", -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW) {
		customers = sqlite3_column_int64(st, 0);
		orders = sqlite3_column_int64(st, 1);
	}
	sqlite3_finalize(st);
	printf("restored %s from %s: %lld customers, %lld orders\n", c->db_path, src, customers,
	       orders);
	return EXIT_OK;
}

static void say(void *ud, const char *line)
{
	(void)ud;
	printf("problem: %s\n", line);
}

static int check(cli *c, int argc, char **argv)
{
	if (argc > 1)
		return cli_usage(&cmd_check, "unexpected argument \"%s\"", argv[1]);
	patron_store *s = cli_store(c);
	if (!s)
		return EXIT_FAIL;
	patron_err err;
	long n = patron_check(s, say, NULL, &err);
	if (n < 0)
		return cli_fail(EXIT_FAIL, "%s", err.msg);
	if (n)
		printf("%s: %ld problems\n", c->db_path, n);
	else
		printf("%s: ok (SQLite's integrity and foreign-key checks, and Patron's own: "
		       "orders, order totals, identities, outbox, cursors, audit)\n", c->db_path);
	return n ? EXIT_FAIL : EXIT_OK;
}

const cli_command cmd_backup = {
	"backup", backup, "copy the store to a file, while it is in use (encrypted if asked)",
	"usage: patron backup FILE [--key-file KEY | --passphrase-file FILE]\n"
	"       patron backup --new-key KEY\n"
	"\n"
	"Copies the store into FILE with SQLite's online backup: a consistent copy,\n"
	"however other patron commands write meanwhile. FILE is written whole or not\n"
	"at all. With --key-file or --passphrase-file (--encrypt says so explicitly),\n"
	"the copy is encrypted and authenticated (libsodium's XChaCha20-Poly1305\n"
	"secretstream; a passphrase goes through Argon2id). A key or passphrase file\n"
	"must be readable by its owner only. --new-key KEY writes a new random key.\n"
	"A plain backup is an SQLite file that sqlite3 opens.\n",
};

const cli_command cmd_restore = {
	"restore", restore, "put a backup back as the store",
	"usage: patron restore FILE [--key-file KEY | --passphrase-file FILE]\n"
	"\n"
	"Replaces the store (--db) with the backup FILE, or creates it. The backup is\n"
	"checked whole first: decrypted and authenticated (a wrong key, a changed byte\n"
	"or a file cut short is refused), an SQLite file that passes its integrity\n"
	"check, a Patron store no newer than this patron. Nothing changes unless all\n"
	"of that holds. Refused while a patron run or deliver is running.\n",
};

const cli_command cmd_check = {
	"check", check, "check the store: SQLite's integrity and Patron's invariants",
	"usage: patron check\n"
	"\n"
	"Runs SQLite's integrity and foreign-key checks and Patron's own: every\n"
	"order's customer and every identity's customer exists, every outbox message\n"
	"and audit row has a known status, no cursor points past the event log.\n"
	"Prints each problem with its count; exit status 1 when there is one.\n",
};
