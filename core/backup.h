/* Backup, restore and check of a store.
 *
 * A backup is a consistent copy made with SQLite's online backup API while
 * other processes go on writing. Encrypted, it is libsodium's secretstream
 * (XChaCha20-Poly1305) over that copy, with a key from a key file or from a
 * passphrase through Argon2id; every chunk is authenticated, so a wrong key
 * or a changed byte is refused before anything is restored. */
#ifndef PATRON_BACKUP_H
#define PATRON_BACKUP_H

#include <stddef.h>
#include <stdint.h>

#include "store.h"

/* Where the key comes from: a key file, or a passphrase file, or neither. */
typedef struct {
	const char *key_file;
	const char *passphrase_file;
} patron_backup_key;

/* Writes a new key file (32 random bytes as hex, mode 0600); refuses to
 * overwrite one. */
int patron_backup_new_key(const char *path, patron_err *err);

/* Copies S into DEST (written whole or not at all), encrypted when KEY
 * names a key or passphrase file. */
int patron_backup(patron_store *s, const char *dest, const patron_backup_key *key,
		  patron_err *err);

/* Replaces the store at STORE_PATH (created when missing) with backup SRC,
 * after checking it whole: decrypted and authenticated, an SQLite file
 * that passes its integrity check, a Patron store. Nothing changes unless
 * all of that holds, and nothing is left of a store that was not there.
 * Refused while a patron run or deliver holds the store; waits BUSY_MS
 * (0: PATRON_BUSY_MS) for other writers. */
int patron_restore(const char *store_path, const char *src, const patron_backup_key *key,
		   int busy_ms, patron_err *err);

/* patron check: one line per problem found into OUT; the count of
 * problems, or -1 when the store could not be read. */
long patron_check(patron_store *s, void (*out)(void *ud, const char *line), void *ud,
		  patron_err *err);

#endif
