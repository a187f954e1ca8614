#include "backup.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "schema.sql.h"
#include "util.h"

/* An encrypted backup: MAGIC, the format, the key's kind ('K' a key file,
 * 'P' a passphrase, then its salt and Argon2id limits), the secretstream
 * header; then chunks, each a 4-byte big-endian length and its ciphertext,
 * the header bound to every chunk as additional data. A plain backup is
 * the SQLite file itself. */
#define MAGIC "PATRONBK"
#define FORMAT 1
#define CHUNK (64 * 1024)
#define SS_HEADER crypto_secretstream_xchacha20poly1305_HEADERBYTES
#define SS_ABYTES crypto_secretstream_xchacha20poly1305_ABYTES
#define KEY_BYTES crypto_secretstream_xchacha20poly1305_KEYBYTES
#define SALT_BYTES crypto_pwhash_SALTBYTES
#define HEADER_MAX (8 + 2 + SALT_BYTES + 16 + SS_HEADER)
#define SECRET_MAX 4096

static void put64(unsigned char *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = (unsigned char)v;
}

static uint64_t get64(const unsigned char *p)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

/* The text of secret file PATH without its trailing blanks; not empty. */
static int read_secret(const char *path, char *buf, size_t cap, size_t *len, patron_err *err)
{
	if (patron_read_secret(path, buf, cap, len, err) < 0)
		return -1;
	while (*len && (buf[*len - 1] == '\n' || buf[*len - 1] == '\r' || buf[*len - 1] == ' '))
		buf[--*len] = '\0';
	if (!*len)
		return patron_err_set(err, "%s: empty", path);
	return 0;
}

int patron_backup_new_key(const char *path, patron_err *err)
{
	if (sodium_init() < 0)
		return patron_err_set(err, "libsodium cannot start");
	unsigned char key[KEY_BYTES];
	char hex[KEY_BYTES * 2 + 2];	/* and a newline */
	crypto_secretstream_xchacha20poly1305_keygen(key);
	sodium_bin2hex(hex, sizeof hex, key, sizeof key);
	sodium_memzero(key, sizeof key);
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return patron_err_set(err, "%s: cannot create: %s", path,
				      errno == EEXIST ? "it exists (a key is never overwritten)"
						      : strerror(errno));
	strcat(hex, "\n");
	ssize_t w = write(fd, hex, strlen(hex));
	int bad = w != (ssize_t)strlen(hex) || fsync(fd) < 0;
	close(fd);
	sodium_memzero(hex, sizeof hex);
	if (bad) {
		unlink(path);
		return patron_err_set(err, "%s: cannot write: %s", path, strerror(errno));
	}
	return 0;
}

/* The stream key for KEY: read from its key file, or derived from its
 * passphrase with SALT and the limits. */
static int derive(const patron_backup_key *key, const unsigned char *salt, uint64_t ops,
		  uint64_t mem, unsigned char out[KEY_BYTES], patron_err *err)
{
	char secret[SECRET_MAX];
	size_t len;
	int rc;
	if (key->key_file) {
		if (read_secret(key->key_file, secret, sizeof secret, &len, err) < 0)
			return -1;
		size_t got;
		rc = len == KEY_BYTES * 2 && sodium_hex2bin(out, KEY_BYTES, secret, len, NULL, &got,
							    NULL) == 0 && got == KEY_BYTES ? 0
			: patron_err_set(err, "%s: expected a key of %d hexadecimal characters "
					 "(patron backup --new-key FILE writes one)", key->key_file,
					 KEY_BYTES * 2);
	} else {
		if (read_secret(key->passphrase_file, secret, sizeof secret, &len, err) < 0)
			return -1;
		rc = crypto_pwhash(out, KEY_BYTES, secret, len, salt, ops, (size_t)mem,
				   crypto_pwhash_ALG_ARGON2ID13) == 0 ? 0
			: patron_err_set(err, "deriving the key from the passphrase: out of memory");
	}
	sodium_memzero(secret, sizeof secret);
	return rc;
}

/* A consistent copy of SRC (a read snapshot, however others write) into
 * the new file PATH. */
static int copy_database(sqlite3 *src, const char *path, patron_err *err)
{
	sqlite3 *dst;
	if (sqlite3_open_v2(path, &dst, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
	    SQLITE_OK) {
		patron_err_set(err, "%s: cannot create: %s", path, sqlite3_errmsg(dst));
		sqlite3_close(dst);
		return -1;
	}
	sqlite3_backup *b = sqlite3_backup_init(dst, "main", src, "main");
	int rc = b ? sqlite3_backup_step(b, -1) : sqlite3_errcode(dst);
	if (b)
		sqlite3_backup_finish(b);
	if (rc != SQLITE_DONE)
		patron_err_set(err, "%s: copying the store: %s", path, sqlite3_errstr(rc));
	/* One self-contained file, not a WAL database beside its -wal. */
	else if (sqlite3_exec(dst, "PRAGMA journal_mode = DELETE", NULL, NULL, NULL) != SQLITE_OK)
		rc = SQLITE_ERROR, patron_err_set(err, "%s: %s", path, sqlite3_errmsg(dst));
	if (sqlite3_close(dst) != SQLITE_OK && rc == SQLITE_DONE) {
		rc = SQLITE_ERROR;
		patron_err_set(err, "%s: closing the copy", path);
	}
	return rc == SQLITE_DONE ? 0 : -1;
}

static int write_all(int fd, const void *p, size_t n)
{
	const unsigned char *c = p;
	while (n) {
		ssize_t w = write(fd, c, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		c += w, n -= (size_t)w;
	}
	return 0;
}

/* Reads up to N bytes; fewer only at the end of the file. */
static ssize_t read_full(int fd, void *p, size_t n)
{
	unsigned char *c = p;
	size_t got = 0;
	while (got < n) {
		ssize_t r = read(fd, c + got, n - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (r == 0)
			break;
		got += (size_t)r;
	}
	return (ssize_t)got;
}

/* Encrypts the file PLAIN into the open file OUT. */
static int encrypt_file(const char *plain, int out, const char *dest,
			const patron_backup_key *key, patron_err *err)
{
	unsigned char header[HEADER_MAX], k[KEY_BYTES];
	size_t hl = 0;
	memcpy(header, MAGIC, 8), hl = 8;
	header[hl++] = FORMAT;
	header[hl++] = key->key_file ? 'K' : 'P';
	unsigned char *salt = header + hl;
	uint64_t ops = crypto_pwhash_OPSLIMIT_INTERACTIVE, mem = crypto_pwhash_MEMLIMIT_INTERACTIVE;
	if (!key->key_file) {
		randombytes_buf(salt, SALT_BYTES);
		put64(header + hl + SALT_BYTES, ops);
		put64(header + hl + SALT_BYTES + 8, mem);
		hl += SALT_BYTES + 16;
	}
	if (derive(key, salt, ops, mem, k, err) < 0)
		return -1;
	crypto_secretstream_xchacha20poly1305_state st;
	crypto_secretstream_xchacha20poly1305_init_push(&st, header + hl, k);
	sodium_memzero(k, sizeof k);
	hl += SS_HEADER;
	int in = open(plain, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return patron_err_set(err, "%s: cannot read: %s", plain, strerror(errno));
	unsigned char *m = patron_xmalloc(2 * CHUNK), *next = m + CHUNK;
	unsigned char *c = patron_xmalloc(CHUNK + SS_ABYTES);
	int rc = write_all(out, header, hl);
	ssize_t n = read_full(in, m, CHUNK);
	while (rc == 0 && n >= 0) {
		/* Read ahead: the last chunk is tagged as the last. */
		ssize_t n2 = n == CHUNK ? read_full(in, next, CHUNK) : 0;
		if (n2 < 0)
			break;
		unsigned long long cl;
		crypto_secretstream_xchacha20poly1305_push(
			&st, c, &cl, m, (size_t)n, header, hl,
			n2 ? 0 : crypto_secretstream_xchacha20poly1305_TAG_FINAL);
		unsigned char len[4] = {(unsigned char)(cl >> 24), (unsigned char)(cl >> 16),
					(unsigned char)(cl >> 8), (unsigned char)cl};
		rc = write_all(out, len, 4) < 0 || write_all(out, c, cl) < 0 ? -1 : 0;
		if (!n2)
			break;
		memcpy(m, next, (size_t)n2);
		n = n2;
	}
	close(in);
	free(m), free(c);
	if (rc < 0 || n < 0)
		return patron_err_set(err, "%s: cannot write: %s", dest, strerror(errno));
	return 0;
}

/* A file beside PATH for a copy being made: PATH.partial, or a new
 * PATH.SUFFIX-XXXXXX. Its descriptor (mode 0600), its name in NAME. */
static int temp_beside(const char *path, const char *suffix, char *name, size_t cap,
		       patron_err *err)
{
	snprintf(name, cap, "%s.%s-XXXXXX", path, suffix);
	int fd = mkstemp(name);
	if (fd < 0)
		return patron_err_set(err, "%s: cannot create a file beside it: %s", path,
				      strerror(errno));
	fchmod(fd, 0600);
	return fd;
}

int patron_backup(patron_store *s, const char *dest, const patron_backup_key *key,
		  patron_err *err)
{
	if (sodium_init() < 0)
		return patron_err_set(err, "libsodium cannot start");
	int encrypt = key && (key->key_file || key->passphrase_file);
	char partial[4200], plain[4200];
	int fd = temp_beside(dest, "partial", partial, sizeof partial, err);
	if (fd < 0)
		return -1;
	int rc;
	if (!encrypt) {
		close(fd);
		unlink(partial);	/* SQLite creates it anew */
		rc = copy_database(patron_store_db(s), partial, err);
	} else {
		/* The plain copy lies beside the store, which holds the same. */
		int pfd = temp_beside(patron_store_path(s), "backup", plain, sizeof plain, err);
		rc = pfd < 0 ? -1 : 0;
		if (rc == 0) {
			close(pfd);
			unlink(plain);
			rc = copy_database(patron_store_db(s), plain, err);
			if (rc == 0)
				rc = encrypt_file(plain, fd, dest, key, err);
			unlink(plain);
		}
		if (rc == 0 && fsync(fd) < 0)
			rc = patron_err_set(err, "%s: cannot write: %s", dest, strerror(errno));
		close(fd);
	}
	if (rc == 0 && rename(partial, dest) < 0)
		rc = patron_err_set(err, "%s: cannot write: %s", dest, strerror(errno));
	if (rc < 0)
		unlink(partial);
	return rc;
}

/* Decrypts SRC (open as IN, its first bytes already in HEAD) into the open
 * file OUT; every chunk authenticated, the last one tagged as the last. */
static int decrypt_file(const char *src, int in, int out, const patron_backup_key *key,
			patron_err *err)
{
	unsigned char header[HEADER_MAX];
	size_t hl = 10;
	if (read_full(in, header, hl) != (ssize_t)hl || memcmp(header, MAGIC, 8) != 0)
		return patron_err_set(err, "%s: not a Patron backup", src);
	if (header[8] != FORMAT)
		return patron_err_set(err, "%s: a backup of format %d; this patron reads format %d",
				      src, header[8], FORMAT);
	char kind = (char)header[9];
	if (kind != 'K' && kind != 'P')
		return patron_err_set(err, "%s: not a Patron backup (unknown key kind)", src);
	if (!key || (!key->key_file && !key->passphrase_file))
		return patron_err_set(err, "%s: encrypted with a %s: give --%s", src,
				      kind == 'K' ? "key file" : "passphrase",
				      kind == 'K' ? "key-file FILE" : "passphrase-file FILE");
	if ((kind == 'K') != (key->key_file != NULL))
		return patron_err_set(err, "%s: encrypted with a %s, not a %s: give --%s", src,
				      kind == 'K' ? "key file" : "passphrase",
				      kind == 'K' ? "passphrase" : "key file",
				      kind == 'K' ? "key-file FILE" : "passphrase-file FILE");
	uint64_t ops = 0, mem = 0;
	if (kind == 'P') {
		if (read_full(in, header + hl, SALT_BYTES + 16) != SALT_BYTES + 16)
			return patron_err_set(err, "%s: cut short", src);
		ops = get64(header + hl + SALT_BYTES);
		mem = get64(header + hl + SALT_BYTES + 8);
		/* The limits are not yet authenticated: only sane ones are used. */
		if (ops < crypto_pwhash_OPSLIMIT_MIN || ops > 64 || mem < crypto_pwhash_MEMLIMIT_MIN ||
		    mem > ((uint64_t)1 << 32))
			return patron_err_set(err, "%s: its key derivation settings were changed", src);
		hl += SALT_BYTES + 16;
	}
	unsigned char k[KEY_BYTES];
	if (derive(key, header + 10, ops, mem, k, err) < 0)
		return -1;
	if (read_full(in, header + hl, SS_HEADER) != SS_HEADER) {
		sodium_memzero(k, sizeof k);
		return patron_err_set(err, "%s: cut short", src);
	}
	crypto_secretstream_xchacha20poly1305_state st;
	int rc = crypto_secretstream_xchacha20poly1305_init_pull(&st, header + hl, k);
	sodium_memzero(k, sizeof k);
	if (rc != 0)
		return patron_err_set(err, "%s: not a Patron backup (a bad stream header)", src);
	hl += SS_HEADER;
	unsigned char *c = patron_xmalloc(CHUNK + SS_ABYTES), *m = patron_xmalloc(CHUNK);
	unsigned char tag = 0;
	long chunk = 0;
	rc = 0;
	while (rc == 0 && tag != crypto_secretstream_xchacha20poly1305_TAG_FINAL) {
		unsigned char len[4];
		ssize_t got = read_full(in, len, 4);
		if (got != 4) {
			rc = patron_err_set(err, "%s: cut short (its end is missing): not restored",
					    src);
			break;
		}
		size_t cl = (size_t)len[0] << 24 | (size_t)len[1] << 16 | (size_t)len[2] << 8 | len[3];
		unsigned long long ml;
		chunk++;
		if (cl < SS_ABYTES || cl > CHUNK + SS_ABYTES || read_full(in, c, cl) != (ssize_t)cl ||
		    crypto_secretstream_xchacha20poly1305_pull(&st, m, &ml, &tag, c, cl, header, hl) !=
			    0) {
			rc = patron_err_set(err, "%s: the wrong key, or the file was changed after the "
					    "backup (part %ld fails its check): not restored", src,
					    chunk);
			break;
		}
		if (write_all(out, m, (size_t)ml) < 0)
			rc = patron_err_set(err, "writing the restored copy: %s", strerror(errno));
	}
	if (rc == 0 && read_full(in, c, 1) != 0)
		rc = patron_err_set(err, "%s: data after its end: the file was changed after the "
				    "backup: not restored", src);
	free(c), free(m);
	return rc;
}

/* Whether the SQLite file PATH is a whole Patron store this patron reads. */
static int check_copy(const char *path, const char *src, patron_err *err)
{
	sqlite3 *db;
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
		sqlite3_close(db);
		return patron_err_set(err, "%s: not an SQLite file", src);
	}
	sqlite3_stmt *st;
	int rc = -1;
	const char *why = "not a Patron store";
	if (sqlite3_prepare_v2(db, "PRAGMA quick_check", -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW) {
		if (strcmp((const char *)sqlite3_column_text(st, 0), "ok") != 0)
			why = "damaged (SQLite's integrity check fails)";
		else
			rc = 0;
	}
	sqlite3_finalize(st);
	int version = -1;
	if (rc == 0 && sqlite3_prepare_v2(db, "SELECT (SELECT user_version FROM pragma_user_version),"
					  " (SELECT count(*) FROM sqlite_schema WHERE name IN "
					  "('customers', 'events', 'outbox'))", -1, &st, NULL) ==
			       SQLITE_OK && sqlite3_step(st) == SQLITE_ROW) {
		version = sqlite3_column_int(st, 0);
		if (sqlite3_column_int(st, 1) != 3)
			rc = -1;
	} else {
		rc = -1;
	}
	sqlite3_finalize(st);
	sqlite3_close(db);
	if (rc < 0)
		return patron_err_set(err, "%s: %s: not restored", src, why);
	if (version > PATRON_SCHEMA_VERSION)
		return patron_err_set(err, "%s: a store of schema %d, newer than this patron's %d: "
				      "not restored", src, version, PATRON_SCHEMA_VERSION);
	return 0;
}

/* patron_restore, once no run or delivery can act on the store. */
static int restore(const char *store_path, const char *src, const patron_backup_key *key,
		   int busy_ms, patron_err *err)
{
	int in = open(src, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return patron_err_set(err, "%s: cannot read: %s", src, strerror(errno));
	unsigned char head[8] = {0};
	ssize_t got = read_full(in, head, sizeof head);
	lseek(in, 0, SEEK_SET);
	int encrypted = got == 8 && memcmp(head, MAGIC, 8) == 0;
	const char *copy = src;
	char plain[4200] = "";
	int rc = 0;
	if (encrypted) {
		int out = temp_beside(store_path, "restore", plain, sizeof plain, err);
		rc = out < 0 ? -1 : decrypt_file(src, in, out, key, err);
		if (out >= 0)
			close(out);
		copy = plain;
	}
	close(in);
	if (rc == 0)
		rc = check_copy(copy, src, err);
	/* Into the store as one write transaction: other processes see the
	 * store before or after, never between. */
	if (rc == 0) {
		sqlite3 *from, *to;
		sqlite3_open_v2(copy, &from, SQLITE_OPEN_READONLY, NULL);
		if (sqlite3_open_v2(store_path, &to, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
				    NULL) != SQLITE_OK) {
			rc = patron_err_set(err, "%s: cannot open: %s", store_path,
					    sqlite3_errmsg(to));
		} else {
			sqlite3_busy_timeout(to, busy_ms);
			sqlite3_backup *b = sqlite3_backup_init(to, "main", from, "main");
			int r = b ? sqlite3_backup_step(b, -1) : sqlite3_errcode(to);
			if (b)
				sqlite3_backup_finish(b);
			if (r != SQLITE_DONE)
				rc = patron_err_set(err, "%s: restoring into it: %s", store_path,
						    b ? sqlite3_errstr(r) : sqlite3_errmsg(to));
		}
		sqlite3_close(from);
		sqlite3_close(to);
	}
	if (*plain)
		unlink(plain);
	return rc;
}

int patron_restore(const char *store_path, const char *src, const patron_backup_key *key,
		   int busy_ms, patron_err *err)
{
	if (sodium_init() < 0)
		return patron_err_set(err, "libsodium cannot start");
	struct stat sb;
	int existed = stat(store_path, &sb) == 0;
	/* No run or delivery may act on the store while it is replaced. */
	int run = patron_store_lock_path(store_path, "run", 0, err);
	int del = run < 0 ? -1 : patron_store_lock_path(store_path, "deliver", 0, err);
	int rc;
	if (run < 0 || del < 0) {
		patron_err why = *err;
		rc = patron_err_set(err, "%s: not restored while it runs", why.msg);
	} else {
		rc = restore(store_path, src, key, busy_ms ? busy_ms : PATRON_BUSY_MS, err);
	}
	if (rc < 0 && !existed) {	/* nothing is left of a store that was not there */
		char path[4200];
		static const char *const beside[] = {"", "-wal", "-shm", "-journal", ".run.lock",
						     ".deliver.lock"};
		for (size_t i = 0; i < sizeof beside / sizeof *beside; i++) {
			snprintf(path, sizeof path, "%s%s", store_path, beside[i]);
			unlink(path);
		}
	}
	if (run >= 0)
		close(run);
	if (del >= 0)
		close(del);
	return rc;
}


/* ---- patron check ---- */

static long problems(sqlite3 *db, const char *sql, const char *what,
		     void (*out)(void *, const char *), void *ud)
{
	sqlite3_stmt *st;
	long n = 0;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return -1;
	if (sqlite3_step(st) == SQLITE_ROW)
		n = (long)sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	if (n) {
		char line[400];
		snprintf(line, sizeof line, "%ld %s", n, what);
		out(ud, line);
	}
	return n;
}

long patron_check(patron_store *s, void (*out)(void *ud, const char *line), void *ud,
		  patron_err *err)
{
	sqlite3 *db = patron_store_db(s);
	sqlite3_stmt *st;
	long found = 0;
	if (sqlite3_prepare_v2(db, "PRAGMA integrity_check(20)", -1, &st, NULL) != SQLITE_OK)
		return patron_store_fail(s, err, "checking the store");
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *line = (const char *)sqlite3_column_text(st, 0);
		if (strcmp(line, "ok") != 0) {
			char msg[600];
			snprintf(msg, sizeof msg, "SQLite's integrity check: %s", line);
			out(ud, msg);
			found++;
		}
	}
	sqlite3_finalize(st);
	static const struct {
		const char *sql, *what;
	} checks[] = {
		{"SELECT count(*) FROM pragma_foreign_key_check",
		 "rows point at a row that does not exist (PRAGMA foreign_key_check)"},
		{"SELECT count(*) FROM orders o WHERE customer_id IS NOT NULL AND NOT EXISTS "
		 "(SELECT 1 FROM customers c WHERE c.id = o.customer_id)",
		 "orders belong to a customer that does not exist"},
		{"SELECT (SELECT count(*) FROM (SELECT customer_id, count(*), sum(total_cents),"
		 " min(placed_at), max(placed_at) FROM orders WHERE revenue AND customer_id IS NOT NULL"
		 " GROUP BY 1 EXCEPT SELECT * FROM customer_orders))"
		 " + (SELECT count(*) FROM customer_orders c WHERE NOT EXISTS"
		 " (SELECT 1 FROM orders o WHERE o.customer_id = c.customer_id AND o.revenue))",
		 "customers' order totals differ from their orders (customer_orders)"},
		{"SELECT count(*) FROM identities i WHERE NOT EXISTS (SELECT 1 FROM customers c "
		 "WHERE c.id = i.customer_id)", "identities name a customer that does not exist"},
		{"SELECT count(*) FROM outbox WHERE status NOT IN ('queued', 'sending', 'sent', "
		 "'dead', 'bounced', 'cancelled')", "outbox messages have an unknown status"},
		{"SELECT count(*) FROM outbox WHERE status = 'sent' AND sent_at IS NULL",
		 "outbox messages are sent but have no time sent"},
		{"SELECT count(*) FROM cursors WHERE event_id > (SELECT coalesce(max(id), 0) FROM "
		 "events)", "subscribers' cursors point past the end of the event log"},
		{"SELECT count(*) FROM audit WHERE status NOT IN ('done', 'refused', 'error')",
		 "audit rows have an unknown status"},
	};
	for (size_t i = 0; i < sizeof checks / sizeof *checks; i++) {
		long n = problems(db, checks[i].sql, checks[i].what, out, ud);
		if (n < 0)
			return patron_store_fail(s, err, "checking the store");
		found += n;
	}
	return found;
}
