/*
 * fuzz_glob.c - libFuzzer target for the fs family's glob matcher
 * (fs_glob.c), the parser and matcher search_files, grep_files' include
 * and directory_tree's excludePatterns run on what a call sends. The input
 * is split at the first newline into a pattern and a path; both may be
 * long (up to -max_len; a seed of the reported 120 KB crash pattern raises
 * it). The stack is limited to FUZZ_STACK (RLIMIT_STACK, set once: the main
 * thread's stack grows only up to the limit in force when it grows), a
 * quarter of a worker thread's 8 MiB, so a recursion the bounds fail to
 * stop crashes here first. Checks: a pattern either compiles or is refused with a rule
 * id; a match either answers or fails with MOAT_ELIMIT and a rule id (or
 * MOAT_ENOMEM), and a failed match never reports a hit.
 */
#include <stdint.h>
#include <sys/resource.h>
#include <stdlib.h>
#include <string.h>

#include "fs/fs_glob.h"

#define FUZZ_STACK ((rlim_t)2 << 20)

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct rlimit rl;

	(void)argc;
	(void)argv;
	if (getrlimit(RLIMIT_STACK, &rl) != 0)
		abort();
	if (rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > FUZZ_STACK) {
		rl.rlim_cur = FUZZ_STACK;
		if (setrlimit(RLIMIT_STACK, &rl) != 0)
			abort();
	}
	return 0;
}

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

static void run(const char *pattern, const char *path)
{
	struct moat_err err = {0};
	struct fs_glob *g = NULL;
	enum moat_rc rc = fs_glob_compile(pattern, &g, &err);

	if (rc != MOAT_OK) {
		if (g || (rc == MOAT_ELIMIT && !err.rule) || (rc != MOAT_ELIMIT && rc != MOAT_ENOMEM))
			abort();
		return;
	}
	check_match(g, path);
	check_match(g, "a/b/c.txt");
	check_match(g, pattern); /* a pattern often nearly matches itself */
	fs_glob_free(g);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size + 1);
	char *nl;

	if (!buf)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	nl = strchr(buf, '\n');
	if (nl)
		*nl++ = '\0';
	run(buf, nl ? nl : "a.txt");
	free(buf);
	return 0;
}
