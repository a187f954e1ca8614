/* channel.outbox-file: the default channel. Each message becomes an RFC 5322
 * file, NNNNNN-KEY.eml, in a folder, and a line of messages.jsonl there says
 * what went out; nothing touches the network, so the demo works offline and
 * a founder can look at exactly what a real channel would have sent.
 *
 * patron.conf:  channels = { email = { plugin = "outbox-file", dir = "outbox" } }
 * dir is relative to the store's folder (default "outbox"). A message written
 * before is not written or logged twice; `patron erase` removes a person's
 * files and lines. */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <patron/plugin.h>

typedef struct {
	const patron_host *host;
	char dir[PATH_MAX];
} file_state;

static int make_dirs(char *path)
{
	for (char *p = path + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		int rc = mkdir(path, 0755);
		*p = '/';
		if (rc < 0 && errno != EEXIST)
			return -1;
	}
	return mkdir(path, 0755) < 0 && errno != EEXIST ? -1 : 0;
}

static int init(const patron_host *host, patron_ctx *ctx, void **state)
{
	const char *dir = host->option_string(ctx, "dir");
	if (!dir)
		dir = "outbox";
	file_state *s = calloc(1, sizeof *s);
	if (!s) {
		host->fail(ctx, "out of memory");
		return -1;
	}
	s->host = host;
	if (dir[0] == '/')
		snprintf(s->dir, sizeof s->dir, "%s", dir);
	else
		snprintf(s->dir, sizeof s->dir, "%s/%s", host->store_dir(ctx), dir);
	*state = s;
	return 0;
}

/* Writes N bytes of P to PATH whole or not at all: a temporary file made
 * durable, then renamed over. */
static int write_whole(const char *path, const char *p, size_t n)
{
	char tmp[PATH_MAX + 256];
	snprintf(tmp, sizeof tmp, "%s.tmp", path);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -1;
	size_t off = 0;
	while (off < n) {
		ssize_t w = write(fd, p + off, n - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			close(fd);
			unlink(tmp);
			return -1;
		}
		off += (size_t)w;
	}
	if (fsync(fd) < 0 || close(fd) < 0 || rename(tmp, path) < 0) {
		unlink(tmp);
		return -1;
	}
	return 0;
}

/* The file name of message M: NNNNNN-KEY.eml, the key's unsafe characters
 * as '_'. */
static void file_name(const patron_message *m, char *name, size_t cap)
{
	size_t k = (size_t)snprintf(name, cap, "%06lld-", (long long)m->id);
	for (const char *c = m->key; *c && k + 5 < cap; c++)
		name[k++] = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
				    (*c >= '0' && *c <= '9') || *c == '-' || *c == '_'
			    ? *c : '_';
	snprintf(name + k, cap - k, ".eml");
}

static int deliver(void *state, patron_ctx *ctx, const patron_message *m)
{
	file_state *s = state;
	const patron_host *h = s->host;
	if (make_dirs(s->dir) < 0) {
		h->fail(ctx, "cannot make the folder %s: %s", s->dir, strerror(errno));
		return PATRON_DOWN;
	}
	char name[160];
	file_name(m, name, sizeof name);
	char path[PATH_MAX + 200];
	snprintf(path, sizeof path, "%s/%s", s->dir, name);
	struct stat sb;
	if (stat(path, &sb) == 0)	/* written before a crash: it went out then */
		return PATRON_DELIVERED;
	if (write_whole(path, m->mime, m->mime_len) < 0) {
		h->fail(ctx, "cannot write %s: %s", path, strerror(errno));
		return PATRON_DOWN;
	}
	json_t *line = json_pack("{s:s, s:I, s:s, s:s, s:s?, s:s, s:s}", "id", m->key,
				 "outbox_id", (json_int_t)m->id, "channel", m->channel, "to", m->to,
				 "subject", m->subject, "message_id", m->message_id, "file", name);
	char *text = json_dumps(line, JSON_COMPACT);
	json_decref(line);
	char log[PATH_MAX + 32];
	snprintf(log, sizeof log, "%s/messages.jsonl", s->dir);
	FILE *f = fopen(log, "a");
	int ok = f && text && fprintf(f, "%s\n", text) > 0;
	if (f && fclose(f) != 0)
		ok = 0;
	free(text);
	if (!ok) {
		h->fail(ctx, "cannot append to %s: %s", log, strerror(errno));
		unlink(path);
		return PATRON_DOWN;
	}
	return PATRON_DELIVERED;
}

/* patron erase: the message's file goes, and its line of messages.jsonl
 * (the log is rewritten whole without it). */
static int forget(void *state, patron_ctx *ctx, const patron_message *m)
{
	file_state *s = state;
	const patron_host *h = s->host;
	char name[160], path[PATH_MAX + 200], log[PATH_MAX + 32];
	file_name(m, name, sizeof name);
	snprintf(path, sizeof path, "%s/%s", s->dir, name);
	int removed = unlink(path) == 0;
	if (!removed && errno != ENOENT) {
		h->fail(ctx, "cannot remove %s: %s", path, strerror(errno));
		return -1;
	}
	snprintf(log, sizeof log, "%s/messages.jsonl", s->dir);
	FILE *f = fopen(log, "r");
	if (!f)
		return errno == ENOENT ? removed : (h->fail(ctx, "cannot read %s: %s", log,
							    strerror(errno)), -1);
	char *kept = NULL, *line = NULL;
	size_t cap = 0, n;
	ssize_t got;
	FILE *out = open_memstream(&kept, &n);
	int dropped = 0;
	while (out && (got = getline(&line, &cap, f)) > 0) {
		json_error_t je;
		json_t *j = json_loadb(line, (size_t)got, 0, &je);
		int mine = j && json_integer_value(json_object_get(j, "outbox_id")) == m->id;
		json_decref(j);
		if (mine)
			dropped = 1;
		else
			fwrite(line, 1, (size_t)got, out);
	}
	free(line);
	fclose(f);
	if (!out) {
		h->fail(ctx, "out of memory");
		return -1;
	}
	fclose(out);
	int rc = dropped && write_whole(log, kept, n) < 0 ? -1 : 0;
	free(kept);
	if (rc < 0) {
		h->fail(ctx, "cannot rewrite %s: %s", log, strerror(errno));
		return -1;
	}
	return removed || dropped;
}

static void done(void *state) { free(state); }

static const patron_plugin descriptor = {
	PATRON_PLUGIN_ABI,
	.name = "channel.outbox-file",
	.kind = PATRON_KIND_CHANNEL,
	.version = "1.0",
	.description = "writes each message as an .eml file and a JSON line to a folder",
	.init = init,
	.free = done,
	.forget = forget,
	.deliver = deliver,
};

const patron_plugin *patron_plugin_entry(void) { return &descriptor; }
