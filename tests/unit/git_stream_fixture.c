/*
 * git_stream_fixture.c - the repositories test_git_stream.c compares the
 * git writers on, made with libgit2 from a seeded generator (included by
 * that test only): a history with merges (side commits merged back),
 * renames, deletions, a mode change, a symlink, a binary file, a file
 * without a final newline, CRLF lines, and file names, messages and
 * authors holding quotes, backslashes, tabs, control bytes, non-ASCII and
 * invalid UTF-8; then staged, unstaged and untracked changes in the work
 * tree. Needs base (the test's temporary directory) declared before it.
 */

/* ---- a seeded generator ---- */

static uint64_t rng;

static unsigned rnd(unsigned n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return n ? (unsigned)(rng % n) : 0;
}

/* ---- making a repository ---- */

#define NFILES 16
static const char *const names[NFILES] = {
	"a.txt",          "dir/b.txt",       "dir/sub/c.md",     "name with space.txt",
	"quo\"te.txt",    "tab\there.txt",   "ctl\001name.txt",  "\xc3\xbcn\xc3\xaf/\xc3\xa7od\xc3\xa9.txt",
	"bad\xff\xfe.txt", "back\\slash.txt", "bin.dat",          "big.txt",
	"noeol.txt",      "run.sh",          "crlf.txt",         "\xe6\x9d\xb1\xe4\xba\xac.txt",
};

static const char *const words[] = {
	"alpha", "beta", "\"quoted\"", "back\\slash", "tab\there", "ctl\001\002", "del\177",
	"\xc3\xa9t\xc3\xa9", "\xe6\x97\xa5\xe6\x9c\xac", "\xf0\x9f\x98\x80", "bad\xff", "trunc\xc3",
	"</script>", "{\"json\":1}", "\\u0000", "x",
};
#define NWORDS (sizeof(words) / sizeof(words[0]))

/* Lines of each file (NULL: absent). */
struct file {
	char **line;
	size_t n;
	bool present, binary, exec;
};
static struct file files[NFILES];

static char *make_line(void)
{
	char buf[600];
	size_t len = 0, k = 1 + rnd(rnd(5) == 0 ? 40 : 8);

	for (size_t i = 0; i < k && len < 500; i++)
		len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%s%s", i ? " " : "",
					words[rnd(NWORDS)]);
	return strdup(buf);
}

static void file_free(struct file *f)
{
	for (size_t i = 0; i < f->n; i++)
		free(f->line[i]);
	free(f->line);
	f->line = NULL;
	f->n = 0;
}

/* Edit file k's lines: a few replaced, inserted or deleted. */
static void edit(size_t k)
{
	struct file *f = &files[k];
	size_t edits = 1 + rnd(4);

	if (!f->present) {
		size_t n = k == 11 ? 200 + rnd(200) : 1 + rnd(12);
		f->line = calloc(n + 1000, sizeof(char *));
		for (size_t i = 0; i < n; i++)
			f->line[i] = make_line();
		f->n = n;
		f->present = true;
		f->binary = k == 10;
		return;
	}
	for (size_t e = 0; e < edits; e++) {
		size_t at = f->n ? rnd((unsigned)f->n) : 0;
		switch (rnd(3)) {
		case 0:
			if (f->n) {
				free(f->line[at]);
				f->line[at] = make_line();
				break;
			}
			/* fall through */
		case 1:
			if (f->n < 990) {
				memmove(f->line + at + 1, f->line + at, (f->n - at) * sizeof(char *));
				f->line[at] = make_line();
				f->n++;
			}
			break;
		default:
			if (f->n > 1) {
				free(f->line[at]);
				memmove(f->line + at, f->line + at + 1, (f->n - at - 1) * sizeof(char *));
				f->n--;
			}
		}
	}
}

static void path_of(size_t k, char *out, size_t n)
{
	snprintf(out, n, "%s/w/%s", base, names[k]);
}

static void mkdirs(const char *p)
{
	char d[700];

	snprintf(d, sizeof(d), "%s", p);
	for (char *s = strchr(d + strlen(base) + 1, '/'); s; s = strchr(s + 1, '/')) {
		*s = '\0';
		mkdir(d, 0755);
		*s = '/';
	}
}

/* Write file k's content into the work tree (or remove it). */
static void put(size_t k)
{
	struct file *f = &files[k];
	char p[700];
	FILE *fp;

	path_of(k, p, sizeof(p));
	if (!f->present) {
		unlink(p);
		return;
	}
	mkdirs(p);
	assert_non_null(fp = fopen(p, "wb"));
	for (size_t i = 0; i < f->n; i++) {
		fputs(f->line[i], fp);
		if (f->binary)
			fwrite("\0\001\377", 1, 3, fp);
		if (k == 14)
			fputc('\r', fp);
		if (!(k == 12 && i + 1 == f->n))
			fputc('\n', fp);
	}
	fclose(fp);
	chmod(p, f->exec ? 0755 : 0644);
}

static const char *const authors[] = {
	"Ann Author", "Z\xc3\xb6\xc3\xab \xc3\x9cn\xc3\xaf\x63ode", "Quote \"Q\" O'Neil", "Ctl\001\177 Name",
	"Bad\xff\xfeUTF", "\xe6\x9d\xb1\xe4\xba\xac \xe5\xa4\xaa\xe9\x83\x8e", "Tab\tName", "Back\\slash",
};
static const char *const emails[] = {"ann@example.com", "z\"q@example.com", "bad\xc3@x.org",
				     "\xc3\xa9@example.com"};
static const int offsets[] = {-480, -150, 0, 60, 330, 840};

static char *make_message(void)
{
	char buf[4096];
	size_t len = 0, lines = rnd(4) == 0 ? 1 + rnd(8) : 1;

	for (size_t i = 0; i < lines; i++) {
		char *l = make_line();
		len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%s%s", l,
					rnd(3) == 0 ? "\n\n" : "\n");
		free(l);
	}
	if (rnd(4) == 0)
		len += (size_t)snprintf(buf + len, sizeof(buf) - len, "trailing  \n\n");
	if (rnd(6) == 0)
		buf[len > 0 ? len - 1 : 0] = '\0'; /* no final newline */
	return strdup(buf);
}

static git_signature *make_sig(git_time_t t)
{
	git_signature *s = NULL;

	assert_int_equal(git_signature_new(&s, authors[rnd(8)], emails[rnd(4)], t,
					   offsets[rnd(6)]),
			 0);
	return s;
}

/* Stage every file as it is now and commit with the given parents; update
 * HEAD when head. */
static void commit(git_repository *h, const git_oid *parents, size_t np, git_time_t t, bool head,
		   git_oid *out)
{
	git_index *idx = NULL;
	git_tree *tree = NULL;
	git_commit *pc[2] = {NULL, NULL};
	git_signature *a = make_sig(t), *c = make_sig(rnd(2) ? t : t + rnd(100));
	git_oid tid;
	char *msg = make_message();
	char rel[600];

	assert_int_equal(git_repository_index(&idx, h), 0);
	for (size_t k = 0; k < NFILES; k++) {
		snprintf(rel, sizeof(rel), "%s", names[k]);
		if (files[k].present)
			assert_int_equal(git_index_add_bypath(idx, rel), 0);
		else
			git_index_remove_bypath(idx, rel);
	}
	assert_int_equal(git_index_write(idx), 0);
	assert_int_equal(git_index_write_tree(&tid, idx), 0);
	assert_int_equal(git_tree_lookup(&tree, h, &tid), 0);
	for (size_t i = 0; i < np; i++)
		assert_int_equal(git_commit_lookup(&pc[i], h, &parents[i]), 0);
	assert_int_equal(git_commit_create(out, h, head ? "HEAD" : NULL, a, c, NULL, msg, tree, np,
					   (const git_commit **)pc),
			 0);
	for (size_t i = 0; i < np; i++)
		git_commit_free(pc[i]);
	free(msg);
	git_tree_free(tree);
	git_index_free(idx);
	git_signature_free(a);
	git_signature_free(c);
}

/* One change between commits: edits, a deletion, a rename, a mode change. */
static void change(void)
{
	size_t k = rnd(NFILES);

	switch (rnd(8)) {
	case 0: /* delete */
		if (files[k].present && k != 0) {
			file_free(&files[k]);
			files[k].present = false;
			put(k);
			return;
		}
		break;
	case 1: { /* rename k to an absent name, content kept */
		size_t to = rnd(NFILES);
		if (files[k].present && !files[to].present && to != 10 && k != 10 && to != 12 &&
		    k != 12 && to != 14 && k != 14) {
			files[to] = files[k];
			memset(&files[k], 0, sizeof(files[k]));
			put(k);
			put(to);
			return;
		}
		break;
	}
	case 2: /* mode */
		if (files[13].present) {
			files[13].exec = !files[13].exec;
			put(13);
		}
		break;
	default:
		break;
	}
	edit(k);
	put(k);
}

/* The work tree: staged changes (written to the index), then more on top
 * that are not staged, a deletion, an untracked file. */
static void worktree(git_repository *h)
{
	git_index *idx = NULL;
	char rel[600];

	for (size_t i = 0; i < 3; i++)
		change();
	assert_int_equal(git_repository_index(&idx, h), 0);
	for (size_t k = 0; k < NFILES; k++) {
		snprintf(rel, sizeof(rel), "%s", names[k]);
		if (files[k].present)
			assert_int_equal(git_index_add_bypath(idx, rel), 0);
		else
			git_index_remove_bypath(idx, rel);
	}
	assert_int_equal(git_index_write(idx), 0);
	git_index_free(idx);
	for (size_t i = 0; i < 3; i++)
		change();
	{
		char p[700];
		FILE *fp;
		snprintf(p, sizeof(p), "%s/w/untracked \"new\".txt", base);
		assert_non_null(fp = fopen(p, "w"));
		fputs("not in the index\n", fp);
		fclose(fp);
	}
}

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(p);
}

/* A fresh repository from seed: n commits (two of them side commits, each
 * merged back a few commits later), then the work tree. ids gets every
 * commit id made, oldest first (*nid of them). */
static git_repository *build(uint64_t seed, size_t n, git_oid *ids, size_t *nid)
{
	git_repository *h = NULL;
	char w[600], p[700];
	git_time_t t = 1704067200;
	git_oid tip, side;
	bool born = false;
	size_t since_side = 0; /* main commits since the side commit; 0: none pending */

	rng = seed;
	snprintf(w, sizeof(w), "%s/w", base);
	nftw(w, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	for (size_t k = 0; k < NFILES; k++) {
		file_free(&files[k]);
		memset(&files[k], 0, sizeof(files[k]));
	}
	assert_int_equal(git_repository_init(&h, w, false), 0);
	snprintf(p, sizeof(p), "%s/link", w);
	assert_int_equal(symlink("a.txt", p), 0);
	for (size_t k = 0; k < NFILES; k++)
		if (rnd(2) || k == 0 || k == 11 || k == 10) {
			edit(k);
			put(k);
		}
	*nid = 0;
	for (size_t i = 0; i < n; i++) {
		/* Equal commit times now and then: the walk's order for ties. */
		t += rnd(3) == 0 ? 0 : 1 + rnd(20000);
		for (size_t c = 1 + rnd(3); c > 0; c--)
			change();
		if (born && (i == n / 3 || i == (2 * n) / 3)) {
			/* A side commit off the tip, HEAD left where it is. */
			commit(h, &tip, 1, t, false, &side);
			since_side = 1;
		} else if (since_side > 2) {
			git_oid par[2] = {tip, side};
			commit(h, par, 2, t, true, &tip);
			since_side = 0;
		} else {
			commit(h, born ? &tip : NULL, born ? 1 : 0, t, true, &tip);
			born = true;
			if (since_side)
				since_side++;
		}
		ids[(*nid)++] = since_side == 1 ? side : tip;
	}
	worktree(h);
	return h;
}
