/*
 * gitp.h - what the git family's files share: the configured repositories,
 * the family's limits, the bounded output every tool writes into, and the
 * helpers that turn a call's repo_path and revision strings into libgit2
 * objects.
 *
 * The family is read-only inspection through libgit2 (no `git` process
 * anywhere). A call's repo_path is a lookup key only: the exact name of a
 * configured repository, or a path whose canonical form is a configured
 * repository's; anything else is refused before libgit2 sees it. User
 * strings become revisions only through libgit2's revision parser
 * (gitp_revparse), never options, and only once git_rev.c has vetted them
 * (no history searches, bounded walks). libgit2 is initialised once at start-up
 * with the system, global and XDG config search paths emptied, so only the
 * repository's own config is read.
 *
 * The family is built as the module moat_git.so (libgit2 brings libssh2,
 * mbedtls and more); modules.c loads it only when the config has a "git"
 * section. Thread-safety: the repository list is read-only after start-up;
 * each repository keeps a pool of at most GITP_POOL libgit2 handles under a
 * lock, and a handle is used by one call at a time.
 */
#ifndef MOAT_PROVIDERS_GIT_GITP_H
#define MOAT_PROVIDERS_GIT_GITP_H

#include <git2.h>
#include <jansson.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "callctx.h"
#include "jsonw.h"
#include "registry.h"
#include "result.h"
#include "wire.h"

#define GITP_DEFAULT_MAX_DIFF_BYTES ((size_t)1 << 20)
#define GITP_DEFAULT_MAX_FILE_BYTES ((size_t)1 << 20)
#define GITP_DEFAULT_MAX_LOG_ENTRIES 1000
#define GITP_DEFAULT_MAX_BLAME_LINES 5000
#define GITP_DEFAULT_MAX_FILES 10000
#define GITP_POOL 4
/* A revision's longest spelling (the schemas' maxLength) and the most
 * generations ("~<n>", "^") one may walk back (see git_rev.c). */
#define GITP_REV_MAX_LEN 256
#define GITP_REV_MAX_STEPS 10000
/* The most commits libgit2's blame (which cannot be interrupted) may walk:
 * beyond, it follows first parents only and stops this many back (see
 * git_blame.c). Some 1.3 s on a loaded 2-core machine. */
#define GITP_BLAME_MAX_COMMITS 10000

/* One configured repository. Immutable after start-up but for the pool,
 * which lock guards. */
struct gitp_repo {
	char *name;      /* unique; the config's "name" or the directory's name; owned */
	char *path;      /* canonical absolute path as configured (work tree or git dir); owned */
	char *workdir;   /* canonical work tree without trailing '/', NULL when bare; owned */
	char *gitdir;    /* canonical git dir; owned */
	char *commondir; /* canonical common dir (differs from gitdir in a worktree); owned */
	pthread_mutex_t lock;
	pthread_cond_t freed;            /* a handle came back */
	git_repository *idle[GITP_POOL]; /* owned handles not in use */
	size_t nidle;
	size_t lent;                     /* handles calls hold now; lent + nidle <= GITP_POOL */
};

/* The family's limits (config "git" section), fixed at start-up. */
struct gitp_limits {
	size_t max_diff_bytes;  /* patch text per call */
	size_t max_file_bytes;  /* git_read_file content, git_blame input */
	size_t max_log_entries; /* git_log max_count upper bound */
	size_t max_blame_lines;
	size_t max_files;       /* status, ls_files, files of one diff */
};

struct gitp_family {
	struct gitp_repo *repos; /* owned */
	size_t nrepos;
	struct gitp_limits lim;
};

/* The family's state (git.c); read-only after start-up. */
extern struct gitp_family gitp_fam;

/* gitp_register_completers - the "git.repositories" completer over
 * gitp_fam (git_complete.c). Start-up only. */
enum moat_rc gitp_register_completers(struct registry *reg, struct moat_err *err);

/* ---- repositories (git_repo.c) ------------------------------------------------- */

/*
 * gitp_find - the configured repository that key names: an exact name, the
 * configured path itself, or a path whose realpath() is a configured
 * repository's path, work tree or git dir. NULL otherwise (no partial,
 * prefix or parent match: "repo/../other" and a symlink to an unconfigured
 * repository are NULL). repos is borrowed. Thread-safe.
 */
struct gitp_repo *gitp_find(struct gitp_repo *repos, size_t n, const char *key);

/*
 * gitp_open - resolve args' "repo_path" against the family's repositories and
 * lend the caller a libgit2 handle for it. On success *repo is borrowed from
 * the family and *h must be given back with gitp_release. Fails with
 * MOAT_EDENIED naming the rule (git.unknown_repository) and the configured
 * names for an unconfigured repo_path. Records the repository's name as
 * ctx's touched "repository". May wait for a pooled handle until ctx's
 * deadline. Thread-safe.
 */
enum moat_rc gitp_open(struct call_ctx *ctx, json_t *args, struct gitp_repo **repo,
		       git_repository **h, struct moat_err *err);

/* gitp_borrow - the same for a repository already found. */
enum moat_rc gitp_borrow(struct gitp_repo *repo, struct call_ctx *ctx, git_repository **h,
			 struct moat_err *err);

/* gitp_release - give h back to repo's pool (or free it). Accepts NULL h. */
void gitp_release(struct gitp_repo *repo, git_repository *h);

/* gitp_repo_free - free what repo owns (the pool included). */
void gitp_repo_free(struct gitp_repo *repo);

/*
 * gitp_revparse - the object revision names, through libgit2's revision
 * parser only, peeled to type (GIT_OBJECT_ANY: unpeeled), after
 * gitp_rev_check has vetted the string (no history searches, no option,
 * bounded walks). field names the argument in messages. When the object
 * is or peels to a commit, its full id is recorded in ctx's touched
 * "commit" (ctx may be NULL). Caller frees *obj with git_object_free.
 */
enum moat_rc gitp_revparse(struct call_ctx *ctx, git_repository *h, const char *field,
			   const char *revision, git_object_t type, git_object **obj,
			   struct moat_err *err);

/* ---- revision vetting (git_rev.c), pure ------------------------------------------- */

/*
 * gitp_rev_check - MOAT_OK when revision may go to libgit2's parser;
 * otherwise the refusal, naming field and the rule (git.revision_refused:
 * ":/<regex>", "^{/<regex>}", ":<index path>", @{upstream}/@{push}, a
 * trailing '@', an unterminated group; git.revision_option: a leading '-';
 * git.revision_steps: longer than GITP_REV_MAX_LEN or walking back more
 * than GITP_REV_MAX_STEPS generations). Pure, thread-safe.
 */
enum moat_rc gitp_rev_check(const char *field, const char *revision, struct moat_err *err);

/*
 * gitp_git_err - fill err from libgit2's last error: rc, then "what: " and
 * libgit2's message. Returns rc. Thread-safe (libgit2 errors are per
 * thread).
 */
enum moat_rc gitp_git_err(struct moat_err *err, enum moat_rc rc, const char *what);

/*
 * gitp_refuse - moat_err_rule with the rule's id named at the end of the
 * message too ("... (rule git.revision_refused)"), so the person reading
 * the answer can look it up (docs/audit.md) and find it in the audit
 * trail. rule: static storage. Returns rc. Thread-safe.
 */
enum moat_rc gitp_refuse(struct moat_err *err, enum moat_rc rc, const char *rule,
			 const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* gitp_touch_head - record HEAD's commit id as ctx's touched "commit"
 * (nothing for an unborn branch). */
void gitp_touch_head(struct call_ctx *ctx, git_repository *h);

/* gitp_head_desc - what HEAD is, into out (size n): "branch <name>",
 * "detached at <7 hex>", "unborn branch <name>" or "bare repository". */
void gitp_head_desc(git_repository *h, char *out, size_t n);

/* ---- bounded output (git_out.c) --------------------------------------------------- */

/*
 * A text buffer that refuses to grow beyond a byte budget measured as the
 * text will travel (JSON-escaped), plus a second cap on raw bytes (a family
 * limit). Once either is reached it is "cut": further appends are dropped
 * and gitp_out_take() ends the text with a note saying what was cut.
 */
struct gitp_out {
	char *buf;
	size_t len, cap;
	size_t cost;      /* JSON-escaped cost of buf plus gitp_out_charge()s */
	size_t budget;    /* cost allowed */
	size_t max_bytes; /* raw bytes allowed */
	const char *limit_name; /* the config key of max_bytes, for the note */
	bool cut;
	bool oom;
	char why[160];    /* what cut it, for the note */
};

/*
 * gitp_out_init - an empty buffer for a call: its budget is the call's
 * output budget less an envelope reserve; max_bytes caps raw text (0 = no
 * cap beyond the budget), limit_name names that cap's config key (static).
 */
void gitp_out_init(struct gitp_out *o, const struct call_ctx *ctx, size_t max_bytes,
		   const char *limit_name);

/* gitp_out_put - append s[0..n). False once the buffer is cut (nothing
 * appended, not even a prefix) or out of memory. */
bool gitp_out_put(struct gitp_out *o, const char *s, size_t n);

/* gitp_out_puts / gitp_out_printf - the same for a string / a format. */
bool gitp_out_puts(struct gitp_out *o, const char *s);
bool gitp_out_printf(struct gitp_out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* gitp_out_charge - count n bytes of structured output against the budget
 * without adding text. False (and cut) when they do not fit. */
bool gitp_out_charge(struct gitp_out *o, size_t n);

/* gitp_out_cut - mark the output cut; why (copied; NULL = the output
 * budget) names the limit for the note, e.g. "git.max_files (10000)". The
 * first cut's reason is kept. */
void gitp_out_cut(struct gitp_out *o, const char *why);

/*
 * gitp_out_take - the text (NUL-terminated, valid UTF-8: invalid bytes are
 * replaced with U+FFFD), with "\n[output cut: ...]" appended when cut.
 * what names the output ("the diff"): "[output cut: the diff reached
 * git.max_diff_bytes (1048576 bytes)]". Caller frees. NULL on ENOMEM. o is
 * emptied.
 */
char *gitp_out_take(struct gitp_out *o, const char *what);

/* gitp_out_free - release o's buffer. */
void gitp_out_free(struct gitp_out *o);

/* gitp_jstr - a JSON string of s[0..n) (from a repository: names, messages,
 * paths, lines), invalid UTF-8 and NUL bytes replaced with U+FFFD. New
 * reference, NULL on ENOMEM; s NULL gives "". */
json_t *gitp_jstr(const char *s, size_t n);

/* gitp_jstrz - the same for a NUL-terminated string. */
json_t *gitp_jstrz(const char *s);

/* ---- streamed structuredContent (git_out.c) ------------------------------------ */

/*
 * A tool's structuredContent written as it is found (issue 17): jsonw into
 * a buffer of its own, which becomes the result's JSON text
 * (tool_result_take_json; the tool's spec says output_streamed). No cap of
 * its own: the tools stop at gitp_out's caps and write an entry only once
 * its text fitted, so the JSON ends where the text ends.
 */
struct gitp_doc {
	struct wire_buf b;
	struct jsonw w;
};

/* gitp_doc_init - an empty document (heap buffer, no budget). */
void gitp_doc_init(struct gitp_doc *d);

/* gitp_wstr - write s[0..n) as the JSON string gitp_jstr makes of it
 * (invalid UTF-8 and NUL bytes replaced with U+FFFD; s NULL gives ""):
 * the same bytes, without a jansson value. gitp_wstrz - the same for a
 * NUL-terminated string. gitp_wkey - a member's name (a literal). False
 * once the writer failed (memory). */
bool gitp_wstr(struct jsonw *w, const char *s, size_t n);
bool gitp_wstrz(struct jsonw *w, const char *s);
bool gitp_wkey(struct jsonw *w, const char *k);

/*
 * gitp_doc_take - the finished document d (every container ended) and
 * text (taken; NULL after ENOMEM) become out's result. MOAT_ENOMEM with
 * err set when either is missing or the writer failed. d is released
 * either way.
 */
enum moat_rc gitp_doc_take(struct gitp_doc *d, struct tool_result *out, char *text,
			   struct moat_err *err);

/* gitp_doc_free - release d (after an error). */
void gitp_doc_free(struct gitp_doc *d);

/* ---- text helpers (git_text.c), pure ---------------------------------------------- */

/* gitp_oid_str - the full hex id of oid into out (GIT_OID_HEXSZ + 1 bytes). */
void gitp_oid_str(const git_oid *oid, char *out);

/* gitp_time_iso - a signature time as git's %aI ("2024-01-15T14:30:25+01:00")
 * into out (size n >= 26). */
void gitp_time_iso(git_time_t t, int offset_min, char *out, size_t n);

/* gitp_time_git - git's default date format ("Mon Jan 15 14:30:25 2024 +0100")
 * into out (size n >= 32). */
void gitp_time_git(git_time_t t, int offset_min, char *out, size_t n);

/* gitp_status_char - the porcelain letter of one side of a status entry:
 * ' ' unchanged, 'M', 'A', 'D', 'R', 'T', '?', '!', 'U'. index selects the
 * HEAD-to-index side, else the index-to-work-tree side. */
char gitp_status_char(unsigned int flags, bool index);

/* gitp_delta_word - "modified", "new file", "deleted", "renamed", "typechange",
 * "copied" for the long status form. Static storage. */
const char *gitp_delta_word(char code);

/* gitp_delta_status - the one-word name of a diff delta ("added",
 * "modified", ...). Static storage. */
const char *gitp_delta_status(git_delta_t s);

/* gitp_path_ok - a tree path argument: relative, no empty, "." or ".."
 * components, no NUL. "" (the root) is accepted when allow_root. */
bool gitp_path_ok(const char *p, bool allow_root);

/* ---- timestamps (git_when.c), pure ------------------------------------------------- */

/*
 * gitp_when_parse - a timestamp as git_log accepts it into *out (seconds
 * since the epoch): ISO 8601 dates and date-times ("2024-01-15",
 * "2024-01-15T14:30:25", "2024-01-15 14:30", with "Z" or "+01:00"), dates
 * like "Jan 15 2024" and "15 Jan 2024", relative forms ("2 weeks ago",
 * "3 days ago", "1 hour ago", "yesterday", "today", "now"), and "@<epoch>".
 * Without a zone a time is local time. now is the reference for relative
 * forms. MOAT_EINVAL naming field and the accepted forms otherwise.
 */
enum moat_rc gitp_when_parse(const char *s, time_t now, const char *field, time_t *out,
			     struct moat_err *err);

/* ---- history walks (git_walk.c) --------------------------------------------------- */

/* A set of commit ids (open addressing; the zero id is never stored).
 * Zero-initialise; owned by its user. */
struct gitp_oidset {
	git_oid *v;
	size_t n, cap;
};

/* gitp_oidset_add - 1 when id is new, 0 when present (or zero), -1 on ENOMEM. */
int gitp_oidset_add(struct gitp_oidset *s, const git_oid *id);

/* gitp_oidset_has - is id in s? */
bool gitp_oidset_has(const struct gitp_oidset *s, const git_oid *id);

/* gitp_oidset_free - release s and zero it. */
void gitp_oidset_free(struct gitp_oidset *s);

/*
 * gitp_reaches - whether the history of tip (tip included) contains
 * target, into *yes, by a walk of its own (libgit2's cannot be
 * interrupted): each commit read adds one to *steps, and every 256 the
 * deadline and cancellation are checked (then their rc). known_not (may be
 * NULL) holds commits known not to reach target; the walk stops at them
 * and, when it does not find target, adds every commit it read. A parent
 * missing from the repository (a shallow clone) ends that line.
 */
enum moat_rc gitp_reaches(struct call_ctx *ctx, git_repository *h, const git_oid *tip,
			  const git_oid *target, struct gitp_oidset *known_not, size_t *steps,
			  bool *yes, struct moat_err *err);

/*
 * gitp_count_reachable - the commits reachable from tip (tip included),
 * counted by a walk of its own up to limit + 1 (then *count is limit + 1
 * and the walk stops), checking the deadline and cancellation every 256.
 */
enum moat_rc gitp_count_reachable(struct call_ctx *ctx, git_repository *h, const git_oid *tip,
				  size_t limit, size_t *count, struct moat_err *err);

/*
 * gitp_first_parent_back - the commit n first parents back from tip into
 * *out (the oldest one when the line is shorter), checking the deadline
 * and cancellation every 256 steps.
 */
enum moat_rc gitp_first_parent_back(struct call_ctx *ctx, git_repository *h, const git_oid *tip,
				    size_t n, git_oid *out, struct moat_err *err);

/* ---- the tools (one file each) ------------------------------------------------------ */

enum moat_rc gitp_status_tool(struct call_ctx *ctx, void *data, json_t *args,
			      struct tool_result *out, struct moat_err *err);
enum moat_rc gitp_log_tool(struct call_ctx *ctx, void *data, json_t *args,
			   struct tool_result *out, struct moat_err *err);
enum moat_rc gitp_diff_unstaged_tool(struct call_ctx *ctx, void *data, json_t *args,
				     struct tool_result *out, struct moat_err *err);
enum moat_rc gitp_diff_staged_tool(struct call_ctx *ctx, void *data, json_t *args,
				   struct tool_result *out, struct moat_err *err);
enum moat_rc gitp_diff_tool(struct call_ctx *ctx, void *data, json_t *args,
			    struct tool_result *out, struct moat_err *err);
enum moat_rc gitp_show_tool(struct call_ctx *ctx, void *data, json_t *args,
			    struct tool_result *out, struct moat_err *err);
enum moat_rc gitp_branch_tool(struct call_ctx *ctx, void *data, json_t *args,
			      struct tool_result *out, struct moat_err *err);
enum moat_rc gitp_blame_tool(struct call_ctx *ctx, void *data, json_t *args,
			     struct tool_result *out, struct moat_err *err);
enum moat_rc gitp_ls_files_tool(struct call_ctx *ctx, void *data, json_t *args,
				struct tool_result *out, struct moat_err *err);
enum moat_rc gitp_read_file_tool(struct call_ctx *ctx, void *data, json_t *args,
				 struct tool_result *out, struct moat_err *err);
enum moat_rc gitp_list_repos_tool(struct call_ctx *ctx, void *data, json_t *args,
				  struct tool_result *out, struct moat_err *err);

/*
 * gitp_diff_emit - print diff (libgit2's patch format, what `git diff`
 * prints) into o and describe it in w, where a value is due, as the array
 * of its files (one object per file with old_path, new_path, status,
 * binary, hunks[{header, old_start, old_lines, new_start, new_lines}]),
 * written file by file; *nfiles gets how many. Stops at o's caps, at
 * max_files files, and at the deadline or a cancel (then returns that rc;
 * the document is then incomplete and must be dropped).
 */
enum moat_rc gitp_diff_emit(struct call_ctx *ctx, git_diff *diff, struct gitp_out *o,
			    struct jsonw *w, size_t *nfiles, struct moat_err *err);

/* What libgit2 calls back with while it compares files (the deadline and
 * cancellation are checked at each file, progress reported now and then). */
struct gitp_compare {
	struct call_ctx *ctx;
	size_t files;
};

/* gitp_diff_opts - diff options with context_lines from args (default 3),
 * the family's safety flags and a progress callback on cmp (which must
 * outlive the diff's making; cmp->ctx set by the caller). */
void gitp_diff_opts(json_t *args, struct gitp_compare *cmp, git_diff_options *opts);

#endif
