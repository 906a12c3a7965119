/*
 * git.c - the git family's provider: reads the config's "git" section,
 * starts libgit2 locked down (no system, global or XDG config; memory
 * windows bounded), opens every configured repository once to check it and
 * find its work tree and git dirs, records them as read-only sandbox
 * grants, and registers the tools. list_repositories lives here too.
 *
 * Owner validation (safe.directory) is switched off in libgit2 because
 * moat makes that decision itself: only a repository the config lists is
 * ever opened (see git_repo.c), and the config is the owner's word that it
 * is trusted. Start-up is single-threaded; afterwards the family's state is
 * read-only.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "gitp.h"
#include "log.h"
#include "providers.h"

struct gitp_family gitp_fam;
static bool libgit2_started;

/* ---- list_repositories ----------------------------------------------------- */

enum moat_rc gitp_list_repos_tool(struct call_ctx *ctx, void *data, json_t *args,
				  struct tool_result *out, struct moat_err *err)
{
	json_t *arr = json_array();
	struct gitp_out o;

	(void)data;
	(void)args;
	gitp_out_init(&o, ctx, 0, NULL);
	for (size_t i = 0; arr && i < gitp_fam.nrepos; i++) {
		struct gitp_repo *r = &gitp_fam.repos[i];
		git_repository *h = NULL;
		char head[128] = "unreadable";
		if (gitp_borrow(r, ctx, &h, NULL) == MOAT_OK) {
			gitp_head_desc(h, head, sizeof(head));
			gitp_release(r, h);
		}
		json_array_append_new(arr, json_pack("{s:s, s:s, s:s, s:b}", "name", r->name, "path",
						     r->path, "head", head, "bare", !r->workdir));
		gitp_out_printf(&o, "%s: %s (%s)\n", r->name, r->path, head);
	}
	return tool_result_take(out, arr ? json_pack("{s:o}", "repositories", arr) : NULL,
			   gitp_out_take(&o, "the list"), err);
}

/* ---- schemas ------------------------------------------------------------------ */

#define REPO_PROP                                                                              \
	"\"repo_path\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":4096,"              \
	"\"description\":\"A configured repository: its name or its path (see "                \
	"list_repositories). Anything else is refused.\"}"
#define CTX_PROP                                                                               \
	"\"context_lines\":{\"type\":\"integer\",\"minimum\":0,\"maximum\":100000,"           \
	"\"default\":3,\"description\":\"Lines of context around each change (default 3).\"}"
#define STR_(x) #x
#define STR(x) STR_(x)
#define REV_DESC                                                                               \
	"A revision as git understands it (a branch, tag, commit id, HEAD~2, main^{tree}...). " \
	"It is resolved by libgit2's revision parser and is never an option. Searches of "      \
	"commit messages (':/text', 'rev^{/text}') are refused, as are walks back of more "     \
	"than " STR(GITP_REV_MAX_STEPS) " generations: find the commit with git_log and pass " \
	"its id."
#define OBJ(props, req)                                                                        \
	"{\"type\":\"object\",\"properties\":{" props "},\"required\":[" req "],"              \
	"\"additionalProperties\":false}"

#define DIFF_OUT                                                                               \
	"{\"type\":\"object\",\"properties\":{\"files\":{\"type\":\"array\",\"items\":{"       \
	"\"type\":\"object\",\"properties\":{\"old_path\":{\"type\":\"string\"},"              \
	"\"new_path\":{\"type\":\"string\"},\"status\":{\"type\":\"string\"},"                 \
	"\"binary\":{\"type\":\"boolean\"},\"hunks\":{\"type\":\"array\"}}}},"                 \
	"\"truncated\":{\"type\":\"boolean\"}},\"required\":[\"files\",\"truncated\"]}"

struct gitp_tool_def {
	const char *name, *title, *desc, *in, *outs;
	tool_handler_fn fn;
	bool quick;
	bool streamed; /* writes its structuredContent with jsonw (output_streamed) */
};

static const struct gitp_tool_def defs[] = {
	{"git_status", "Working tree status",
	 "Shows the working tree status, as `git status`: the branch, changes staged for "
	 "commit, changes not staged, untracked files. structuredContent lists each file with "
	 "its two porcelain status letters (index, worktree).",
	 OBJ(REPO_PROP, "\"repo_path\""),
	 "{\"type\":\"object\",\"properties\":{\"branch\":{\"type\":[\"string\",\"null\"]},"
	 "\"head\":{\"type\":\"string\"},\"files\":{\"type\":\"array\"},\"truncated\":{\"type\":"
	 "\"boolean\"}},\"required\":[\"files\",\"truncated\"]}",
	 gitp_status_tool, false, false},
	{"git_diff_unstaged", "Unstaged changes",
	 "Shows changes in the working directory that are not yet staged (`git diff`).",
	 OBJ(REPO_PROP "," CTX_PROP, "\"repo_path\""), DIFF_OUT, gitp_diff_unstaged_tool, false, true},
	{"git_diff_staged", "Staged changes",
	 "Shows changes that are staged for commit (`git diff --cached`).",
	 OBJ(REPO_PROP "," CTX_PROP, "\"repo_path\""), DIFF_OUT, gitp_diff_staged_tool, false, true},
	{"git_diff", "Diff against a revision",
	 "Shows differences between a branch or commit and the working tree (`git diff "
	 "<target>`).",
	 OBJ(REPO_PROP ",\"target\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":256,"
		       "\"description\":\"" REV_DESC "\"}," CTX_PROP,
	     "\"repo_path\",\"target\""),
	 DIFF_OUT, gitp_diff_tool, false, true},
	{"git_log", "Commit history",
	 "Shows the commit logs from HEAD, newest first: id, author, date, message. "
	 "start_timestamp and end_timestamp keep commits whose commit date falls between them.",
	 OBJ(REPO_PROP ",\"max_count\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":100000,"
		       "\"default\":10,\"description\":\"Most commits to show (default 10).\"},"
		       "\"start_timestamp\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":64,"
		       "\"description\":\"Only commits after this: ISO 8601 (2024-01-15T14:30:25), "
		       "'Jan 15 2024', or relative ('2 weeks ago', 'yesterday').\"},"
		       "\"end_timestamp\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":64,"
		       "\"description\":\"Only commits before this; same forms.\"}",
	     "\"repo_path\""),
	 "{\"type\":\"object\",\"properties\":{\"commits\":{\"type\":\"array\",\"items\":{"
	 "\"type\":\"object\",\"properties\":{\"id\":{\"type\":\"string\"},\"author\":{\"type\":"
	 "\"string\"},\"email\":{\"type\":\"string\"},\"date\":{\"type\":\"string\"},"
	 "\"message\":{\"type\":\"string\"}},\"required\":[\"id\",\"author\",\"email\",\"date\","
	 "\"message\"]}},\"truncated\":{\"type\":\"boolean\"}},\"required\":[\"commits\","
	 "\"truncated\"]}",
	 gitp_log_tool, false, true},
	{"git_show", "Show a commit",
	 "Shows the contents of a commit: its header and message, then its changes against its "
	 "first parent (`git show`).",
	 OBJ(REPO_PROP ",\"revision\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":256,"
		       "\"description\":\"" REV_DESC "\"}",
	     "\"repo_path\",\"revision\""),
	 "{\"type\":\"object\",\"properties\":{\"commit\":{\"type\":\"object\"},\"files\":{"
	 "\"type\":\"array\"},\"truncated\":{\"type\":\"boolean\"}},\"required\":[\"commit\","
	 "\"files\",\"truncated\"]}",
	 gitp_show_tool, false, true},
	{"git_branch", "List branches",
	 "List Git branches (`git branch`, `-r`, `-a`), optionally only those that contain, or "
	 "do not contain, a commit.",
	 OBJ(REPO_PROP ",\"branch_type\":{\"enum\":[\"local\",\"remote\",\"all\"],"
		       "\"description\":\"Local branches ('local'), remote-tracking branches "
		       "('remote') or both ('all').\"},"
		       "\"contains\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":256,"
		       "\"description\":\"Only branches whose history contains this commit.\"},"
		       "\"not_contains\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":256,"
		       "\"description\":\"Only branches whose history does not contain this "
		       "commit.\"}",
	     "\"repo_path\",\"branch_type\""),
	 "{\"type\":\"object\",\"properties\":{\"branches\":{\"type\":\"array\",\"items\":{"
	 "\"type\":\"object\",\"properties\":{\"name\":{\"type\":\"string\"},\"remote\":{\"type\":"
	 "\"boolean\"},\"current\":{\"type\":\"boolean\"},\"commit\":{\"type\":\"string\"}}}}},"
	 "\"required\":[\"branches\"]}",
	 gitp_branch_tool, false, false},
	{"git_blame", "Blame a file",
	 "Shows, for each line of a file as committed at HEAD (or at revision), the commit that "
	 "last changed it, its author and date (`git blame`).",
	 OBJ(REPO_PROP ",\"path\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":4096,"
		       "\"description\":\"A file path relative to the repository root.\"},"
		       "\"revision\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":256,"
		       "\"description\":\"Blame the file as of this revision (default HEAD).\"},"
		       "\"start_line\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":100000000},"
		       "\"end_line\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":100000000}",
	     "\"repo_path\",\"path\""),
	 "{\"type\":\"object\",\"properties\":{\"lines\":{\"type\":\"array\",\"items\":{"
	 "\"type\":\"object\",\"properties\":{\"line\":{\"type\":\"integer\"},\"commit\":{"
	 "\"type\":\"string\"},\"author\":{\"type\":\"string\"},\"date\":{\"type\":\"string\"},"
	 "\"text\":{\"type\":\"string\"}}}},\"truncated\":{\"type\":\"boolean\"}},"
	 "\"required\":[\"lines\",\"truncated\"]}",
	 gitp_blame_tool, false, true},
	{"git_ls_files", "List files",
	 "Lists the files in the index (`git ls-files`), or in the tree of a revision "
	 "(`git ls-tree -r --name-only <revision>`), optionally under a directory.",
	 OBJ(REPO_PROP ",\"revision\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":256,"
		       "\"description\":\"List this revision's tree instead of the index.\"},"
		       "\"path\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":4096,"
		       "\"description\":\"Only files under this directory (or this file).\"}",
	     "\"repo_path\""),
	 "{\"type\":\"object\",\"properties\":{\"files\":{\"type\":\"array\",\"items\":{"
	 "\"type\":\"string\"}},\"truncated\":{\"type\":\"boolean\"}},\"required\":[\"files\","
	 "\"truncated\"]}",
	 gitp_ls_files_tool, false, true},
	{"git_read_file", "Read a file at a revision",
	 "The content of a file as it is at a revision (`git show <revision>:<path>`): text as "
	 "text, anything else as a base64 resource.",
	 OBJ(REPO_PROP ",\"revision\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":256,"
		       "\"description\":\"" REV_DESC "\"},"
		       "\"path\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":4096,"
		       "\"description\":\"A file path relative to the repository root.\"}",
	     "\"repo_path\",\"revision\",\"path\""),
	 NULL, gitp_read_file_tool, false, false},
	{"list_repositories", "List repositories",
	 "The repositories this server may inspect: name, path and what HEAD is. Pass the name "
	 "or the path as repo_path.",
	 "{\"type\":\"object\",\"properties\":{},\"additionalProperties\":false}",
	 "{\"type\":\"object\",\"properties\":{\"repositories\":{\"type\":\"array\",\"items\":{"
	 "\"type\":\"object\",\"properties\":{\"name\":{\"type\":\"string\"},\"path\":{\"type\":"
	 "\"string\"},\"head\":{\"type\":\"string\"}},\"required\":[\"name\",\"path\"]}}},"
	 "\"required\":[\"repositories\"]}",
	 gitp_list_repos_tool, true, false},
};

static enum moat_rc register_tools(struct registry *reg, struct moat_err *err)
{
	enum moat_rc rc = MOAT_OK;

	for (size_t i = 0; i < sizeof(defs) / sizeof(defs[0]) && rc == MOAT_OK; i++) {
		struct tool_spec spec = {
			.name = defs[i].name,
			.title = defs[i].title,
			.description = defs[i].desc,
			.annotations = {.read_only = HINT_TRUE,
					.destructive = HINT_FALSE,
					.idempotent = HINT_TRUE,
					.open_world = HINT_FALSE},
			.quick = defs[i].quick,
			.handler = defs[i].fn,
			.output_streamed = defs[i].streamed,
		};
		rc = registry_add_texts(reg, spec, defs[i].in, defs[i].outs, err);
	}
	return rc;
}

/* ---- config and start-up ---------------------------------------------------------- */

/* libgit2, locked down: only the repository's own config is read. */
static enum moat_rc start_libgit2(struct moat_err *err)
{
	static const int levels[] = {GIT_CONFIG_LEVEL_SYSTEM, GIT_CONFIG_LEVEL_XDG,
				     GIT_CONFIG_LEVEL_GLOBAL, GIT_CONFIG_LEVEL_PROGRAMDATA};

	if (git_libgit2_init() < 0)
		return gitp_git_err(err, MOAT_EINTERNAL, "cannot start libgit2");
	libgit2_started = true;
	for (size_t i = 0; i < sizeof(levels) / sizeof(levels[0]); i++)
		if (git_libgit2_opts(GIT_OPT_SET_SEARCH_PATH, levels[i], "") < 0)
			return gitp_git_err(err, MOAT_EINTERNAL, "cannot empty a config search path");
	if (git_libgit2_opts(GIT_OPT_SET_OWNER_VALIDATION, 0) < 0 ||
	    git_libgit2_opts(GIT_OPT_SET_MWINDOW_SIZE, (size_t)64 << 20) < 0 ||
	    git_libgit2_opts(GIT_OPT_SET_MWINDOW_MAPPED_LIMIT, (size_t)512 << 20) < 0 ||
	    git_libgit2_opts(GIT_OPT_SET_MWINDOW_FILE_LIMIT, (size_t)128) < 0 ||
	    git_libgit2_opts(GIT_OPT_SET_CACHE_MAX_SIZE, (ssize_t)64 << 20) < 0 ||
	    git_libgit2_opts(GIT_OPT_ENABLE_STRICT_HASH_VERIFICATION, 1) < 0)
		return gitp_git_err(err, MOAT_EINTERNAL, "cannot set libgit2's limits");
	return MOAT_OK;
}

static size_t get_size(const json_t *o, const char *key, size_t def)
{
	json_t *v = json_object_get(o, key);

	return json_is_integer(v) && json_integer_value(v) > 0 ? (size_t)json_integer_value(v)
							       : def;
}

/* A canonical copy of p without a trailing '/', or NULL. */
static char *canon(const char *p)
{
	char real[PATH_MAX];

	return realpath(p, real) ? strdup(real) : NULL;
}

/* Record a read-only grant for dir (an existing directory). */
static enum moat_rc grant(struct registry *reg, const char *dir, size_t i, struct moat_err *err)
{
	int fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	enum moat_rc rc;

	if (fd < 0)
		return moat_err_set(err, MOAT_EIO, "/git/repositories/%zu: cannot open a directory of "
				    "the repository: %s", i, strerror(errno));
	rc = registry_grant(reg, dir, fd, false, err);
	close(fd);
	return rc;
}

/* The default name: the work tree's (or git dir's) last component, less ".git". */
static char *default_name(const char *dir)
{
	const char *b = strrchr(dir, '/');
	char *n;
	size_t len;

	b = b && b[1] ? b + 1 : dir;
	n = strdup(b);
	if (n && (len = strlen(n)) > 4 && strcmp(n + len - 4, ".git") == 0)
		n[len - 4] = '\0';
	return n;
}

static enum moat_rc open_repo(size_t i, const json_t *item, const char *base,
			      struct gitp_repo *r, struct registry *reg, struct moat_err *err)
{
	const char *given = json_is_string(item) ? json_string_value(item)
						 : json_string_value(json_object_get(item, "path"));
	const char *name = json_string_value(json_object_get(item, "name"));
	char joined[PATH_MAX];
	git_repository *h = NULL;
	enum moat_rc rc = MOAT_OK;

	pthread_mutex_init(&r->lock, NULL);
	pthread_cond_init(&r->freed, NULL);
	if (!given || !*given)
		return moat_err_set(err, MOAT_EINVAL, "/git/repositories/%zu/path: required", i);
	if (given[0] != '/' && base) {
		if ((size_t)snprintf(joined, sizeof(joined), "%s/%s", base, given) >= sizeof(joined))
			return moat_err_set(err, MOAT_EINVAL, "/git/repositories/%zu/path: too long", i);
		given = joined;
	}
	if (!(r->path = canon(given)))
		return moat_err_set(err, MOAT_EINVAL, "/git/repositories/%zu/path: cannot resolve: %s",
				    i,
				    strerror(errno));
	if (git_repository_open_ext(&h, r->path, GIT_REPOSITORY_OPEN_NO_SEARCH, NULL) < 0)
	{
		const git_error *ge = git_error_last();
		return moat_err_set(err, MOAT_EINVAL, "/git/repositories/%zu/path: not a git "
				    "repository (%s)", i, ge && ge->message ? ge->message : "?");
	}
	if (git_repository_workdir(h) && !(r->workdir = canon(git_repository_workdir(h))))
		rc = moat_err_set(err, MOAT_EINVAL, "/git/repositories/%zu: cannot resolve its "
				  "work tree", i);
	else if (!(r->gitdir = canon(git_repository_path(h))) ||
		 !(r->commondir = canon(git_repository_commondir(h))))
		rc = moat_err_set(err, MOAT_EINVAL, "/git/repositories/%zu: cannot resolve its "
				  "git dir", i);
	if (rc) {
		git_repository_free(h);
		return rc;
	}
	/* The pool, filled before the sandbox (see git_repo.c). */
	r->idle[r->nidle++] = h;
	while (r->nidle < GITP_POOL &&
	       git_repository_open_ext(&r->idle[r->nidle], r->path, GIT_REPOSITORY_OPEN_NO_SEARCH,
				       NULL) == 0)
		r->nidle++;
	if (!(r->name = name ? strdup(name) : default_name(r->workdir ? r->workdir : r->gitdir)))
		return moat_err_set(err, MOAT_ENOMEM, "out of memory");
	for (size_t k = 0; k < i; k++) {
		struct gitp_repo *o = &gitp_fam.repos[k];
		if (strcmp(o->name, r->name) == 0)
			return moat_err_set(err, MOAT_EINVAL, "/git/repositories/%zu/name: \"%s\" is "
					    "already used; give each repository its own name", i,
					    r->name);
		if (strcmp(o->gitdir, r->gitdir) == 0)
			return moat_err_set(err, MOAT_EINVAL, "/git/repositories/%zu/path: the same "
					    "repository as /git/repositories/%zu", i, k);
	}
	if (r->workdir && (rc = grant(reg, r->workdir, i, err)))
		return rc;
	if ((rc = grant(reg, r->gitdir, i, err)))
		return rc;
	if (strcmp(r->commondir, r->gitdir) != 0)
		rc = grant(reg, r->commondir, i, err);
	return rc;
}

static void git_fini(void)
{
	for (size_t i = 0; i < gitp_fam.nrepos; i++) {
		gitp_repo_free(&gitp_fam.repos[i]);
		pthread_mutex_destroy(&gitp_fam.repos[i].lock);
		pthread_cond_destroy(&gitp_fam.repos[i].freed);
	}
	free(gitp_fam.repos);
	memset(&gitp_fam, 0, sizeof(gitp_fam));
	if (libgit2_started)
		git_libgit2_shutdown();
	libgit2_started = false;
}

static enum moat_rc git_init(struct registry *reg, const json_t *section,
			     const struct moat_config *cfg, struct moat_err *err)
{
	const json_t *repos = json_object_get(section, "repositories");
	enum moat_rc rc;
	size_t i;
	json_t *item;

	memset(&gitp_fam, 0, sizeof(gitp_fam));
	gitp_fam.lim.max_diff_bytes = get_size(section, "max_diff_bytes", GITP_DEFAULT_MAX_DIFF_BYTES);
	gitp_fam.lim.max_file_bytes = get_size(section, "max_file_bytes", GITP_DEFAULT_MAX_FILE_BYTES);
	gitp_fam.lim.max_log_entries =
		get_size(section, "max_log_entries", GITP_DEFAULT_MAX_LOG_ENTRIES);
	gitp_fam.lim.max_blame_lines =
		get_size(section, "max_blame_lines", GITP_DEFAULT_MAX_BLAME_LINES);
	gitp_fam.lim.max_files = get_size(section, "max_files", GITP_DEFAULT_MAX_FILES);
	if (json_array_size(repos) == 0)
		return moat_err_set(err, MOAT_EINVAL, "/git/repositories: at least one repository is "
				    "required");
	if ((rc = start_libgit2(err)))
		goto fail;
	if (!(gitp_fam.repos = calloc(json_array_size(repos), sizeof(*gitp_fam.repos)))) {
		rc = moat_err_set(err, MOAT_ENOMEM, "out of memory");
		goto fail;
	}
	json_array_foreach(repos, i, item) {
		gitp_fam.nrepos = i + 1;
		if ((rc = open_repo(i, item, cfg->dir, &gitp_fam.repos[i], reg, err)))
			goto fail;
	}
	if ((rc = register_tools(reg, err)) || (rc = gitp_register_completers(reg, err)))
		goto fail;
	return MOAT_OK;
fail:
	git_fini();
	return rc;
}

/* moat check: each repository and what the sandbox will let the family read. */
static void git_describe(FILE *f)
{
	fprintf(f, "git (read-only through libgit2; no git process, hooks, filters or "
		   "textconv; only each repository's own config is read):\n");
	for (size_t i = 0; i < gitp_fam.nrepos; i++) {
		struct gitp_repo *r = &gitp_fam.repos[i];
		bool shared = strcmp(r->commondir, r->gitdir) != 0;
		fprintf(f, "  %-12s %s (%s%s%s%s) read-only\n", r->name,
			r->workdir ? r->workdir : r->gitdir, r->workdir ? "git dir " : "bare",
			r->workdir ? r->gitdir : "", shared ? ", common dir " : "",
			shared ? r->commondir : "");
	}
	fprintf(f, "  limits: max_diff_bytes %zu, max_file_bytes %zu, max_log_entries %zu, "
		   "max_blame_lines %zu, max_files %zu\n",
		gitp_fam.lim.max_diff_bytes, gitp_fam.lim.max_file_bytes,
		gitp_fam.lim.max_log_entries, gitp_fam.lim.max_blame_lines, gitp_fam.lim.max_files);
}

/* The module's library and its version, for `moat version` (modules.c
 * asks for this symbol by name). Static storage. */
const char *git_module_versions(void);
const char *git_module_versions(void)
{
	static char buf[64];
	int major = 0, minor = 0, rev = 0;

	git_libgit2_version(&major, &minor, &rev);
	snprintf(buf, sizeof(buf), "libgit2 %d.%d.%d", major, minor, rev);
	return buf;
}

const struct provider git_provider = {
	.name = "git",
	.config_key = "git",
	.init = git_init,
	.fini = git_fini,
	.describe = git_describe,
};
