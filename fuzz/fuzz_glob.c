/*
 * fuzz_glob.c - libFuzzer target for the fs family's glob matcher
 * (fs_glob.c), the parser and matcher search_files, grep_files' include
 * and directory_tree's excludePatterns run on what a call sends. The input
 * is split at the first newline into a pattern and a path; both may be
 * long (up to -max_len). The match runs on a thread with a 1 MiB stack, a
 * fraction of a worker's, so a recursion the bounds fail to stop crashes
 * here first. Checks: a pattern either compiles or is refused with a rule
 * id; a match either answers or fails with MOAT_ELIMIT and a rule id (or
 * MOAT_ENOMEM), and a failed match never reports a hit.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fs/fs_glob.h"

#define FUZZ_STACK ((size_t)1 << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct job {
	const char *pattern, *path;
};

static void check_match(const struct fs_glob *g, const char *path)
{
	struct moat_err err = {0};
	bool hit = true;
	enum moat_rc rc = fs_glob_match(g, path, NULL, &hit, &err);

	if (rc == MOAT_OK)
		return;
	if (hit)
		abort(); /* an unfinished match must not answer */
	if (rc == MOAT_ELIMIT && !err.rule)
		abort();
	if (rc != MOAT_ELIMIT && rc != MOAT_ENOMEM)
		abort();
}

static void *run(void *arg)
{
	const struct job *j = arg;
	struct moat_err err = {0};
	struct fs_glob *g = NULL;
	enum moat_rc rc = fs_glob_compile(j->pattern, &g, &err);

	if (rc != MOAT_OK) {
		if (g || (rc == MOAT_ELIMIT && !err.rule) || (rc != MOAT_ELIMIT && rc != MOAT_ENOMEM))
			abort();
		return NULL;
	}
	check_match(g, j->path);
	check_match(g, "a/b/c.txt");
	check_match(g, j->pattern); /* a pattern often nearly matches itself */
	fs_glob_free(g);
	return NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size + 1);
	struct job j;
	pthread_attr_t attr;
	pthread_t t;
	char *nl;

	if (!buf)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	nl = strchr(buf, '\n');
	if (nl)
		*nl++ = '\0';
	j.pattern = buf;
	j.path = nl ? nl : "a.txt";
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, FUZZ_STACK);
	if (pthread_create(&t, &attr, run, &j) != 0)
		abort();
	pthread_join(t, NULL);
	pthread_attr_destroy(&attr);
	free(buf);
	return 0;
}
