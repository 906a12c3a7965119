/*
 * git_repo.c - from a call's repo_path to a libgit2 handle, and from a
 * revision string to an object.
 *
 * repo_path is a lookup key, never a path libgit2 is asked to open: it must
 * be a configured repository's name, its configured path, or a path whose
 * realpath() is exactly a configured repository's path, work tree or git
 * dir. Everything else is refused with the same message, whatever exists
 * there. The handle opened is always the configured repository's own
 * (GIT_REPOSITORY_OPEN_NO_SEARCH: no discovery upwards).
 *
 * Each repository has at most GITP_POOL libgit2 handles, opened at start-up
 * (before the sandbox: a repository config that includes a file outside
 * the repository could not be reopened under it), so a call finds the
 * object cache and pack indexes warm. A handle serves one call at a time;
 * a call that finds them all lent waits for one until its deadline, which
 * bounds the memory many concurrent calls on one large repository take
 * (each handle holds its own index and caches).
 *
 * A revision reaches libgit2 only after git_rev.c has vetted it, and a
 * name libgit2 1.5 would leak on is answered here. libgit2's messages are
 * passed on without absolute paths: a configured repository's directories
 * become relative to it, anything else "(a path outside the repository)".
 * The repository a call opens and the commit it resolves are recorded as
 * the call's touched names for the audit trail. Thread-safe.
 */
#include <ctype.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gitp.h"

struct gitp_repo *gitp_find(struct gitp_repo *repos, size_t n, const char *key)
{
	char real[PATH_MAX];

	if (!key || !*key)
		return NULL;
	for (size_t i = 0; i < n; i++)
		if (strcmp(repos[i].name, key) == 0 || strcmp(repos[i].path, key) == 0)
			return &repos[i];
	if (key[0] != '/' || !realpath(key, real))
		return NULL;
	for (size_t i = 0; i < n; i++) {
		struct gitp_repo *r = &repos[i];
		if (strcmp(r->path, real) == 0 || (r->workdir && strcmp(r->workdir, real) == 0) ||
		    strcmp(r->gitdir, real) == 0)
			return r;
	}
	return NULL;
}

/* The spelling of the absolute path tok[0..n) in a message: relative to
 * the configured repository that holds it ("a.txt", ".git/index"), or a
 * note that it lies outside. */
static void path_word(const char *tok, size_t n, char *out, size_t size)
{
	for (size_t i = 0; i < gitp_fam.nrepos; i++) {
		const struct gitp_repo *r = &gitp_fam.repos[i];
		const char *dirs[] = {r->gitdir, r->commondir, r->workdir};
		const char *as[] = {".git", ".git", "."};
		for (size_t k = 0; k < 3; k++) {
			size_t dl = dirs[k] ? strlen(dirs[k]) : 0;
			if (!dl || n < dl || memcmp(tok, dirs[k], dl) != 0 ||
			    (n > dl && tok[dl] != '/'))
				continue;
			if (n <= dl + 1)
				snprintf(out, size, "%s", as[k]);
			else if (k == 2)
				snprintf(out, size, "%.*s", (int)(n - dl - 1), tok + dl + 1);
			else
				snprintf(out, size, "%s/%.*s", as[k], (int)(n - dl - 1), tok + dl + 1);
			return;
		}
	}
	snprintf(out, size, "(a path outside the repository)");
}

/* msg (a buffer of size n) without absolute paths: each word that starts
 * with '/' after a quote, a space or the start is respelled by path_word. */
static void scrub(char *msg, size_t n)
{
	char out[MOAT_ERR_MSG_MAX], word[MOAT_ERR_MSG_MAX];
	size_t o = 0;

	for (size_t i = 0; msg[i] && o + 1 < sizeof(out);) {
		if (msg[i] == '/' && (i == 0 || msg[i - 1] == '\'' || msg[i - 1] == ' ' ||
				      msg[i - 1] == '"')) {
			size_t t = strcspn(msg + i, "' \"");
			size_t wl;
			path_word(msg + i, t, word, sizeof(word));
			wl = strlen(word);
			if (wl > sizeof(out) - 1 - o)
				wl = sizeof(out) - 1 - o;
			memcpy(out + o, word, wl);
			o += wl;
			i += t;
		} else {
			out[o++] = msg[i++];
		}
	}
	out[o] = '\0';
	snprintf(msg, n, "%s", out);
}

enum moat_rc gitp_refuse(struct moat_err *err, enum moat_rc rc, const char *rule,
			 const char *fmt, ...)
{
	char msg[MOAT_ERR_MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return moat_err_rule(err, rc, rule, "%s (rule %s)", msg, rule);
}

enum moat_rc gitp_git_err(struct moat_err *err, enum moat_rc rc, const char *what)
{
	const git_error *e = git_error_last();

	moat_err_set(err, rc, "%s: %s", what, e && e->message ? e->message : "libgit2 error");
	if (err)
		scrub(err->msg, sizeof(err->msg));
	return rc;
}

enum moat_rc gitp_open(struct call_ctx *ctx, json_t *args, struct gitp_repo **repo,
		       git_repository **h, struct moat_err *err)
{
	const char *key = json_string_value(json_object_get(args, "repo_path"));
	struct gitp_repo *r = gitp_find(gitp_fam.repos, gitp_fam.nrepos, key);

	char names[256];
	size_t used = 0;

	*h = NULL;
	*repo = r;
	if (r) {
		callctx_touch(ctx, "repository", r->name);
		return gitp_borrow(r, ctx, h, err);
	}
	/* Name what may be asked for: the configured names, as far as they fit. */
	names[0] = '\0';
	for (size_t i = 0; i < gitp_fam.nrepos && used < sizeof(names); i++) {
		int w = snprintf(names + used, sizeof(names) - used, "%s%s", i ? ", " : "",
				 gitp_fam.repos[i].name);
		if (w < 0 || (size_t)w >= sizeof(names) - used) {
			snprintf(names + (used < sizeof(names) - 5 ? used : sizeof(names) - 5),
				 sizeof(names) - (used < sizeof(names) - 5 ? used : sizeof(names) - 5),
				 ", ...");
			break;
		}
		used += (size_t)w;
	}
	return gitp_refuse(err, MOAT_EDENIED, "git.unknown_repository",
			     "repo_path: not a configured repository; the configured ones are: %s "
			     "(see list_repositories)", names);
}

enum moat_rc gitp_borrow(struct gitp_repo *r, struct call_ctx *ctx, git_repository **h,
			 struct moat_err *err)
{
	enum moat_rc rc = MOAT_OK;

	*h = NULL;
	pthread_mutex_lock(&r->lock);
	for (;;) {
		struct timespec ts;
		if (r->nidle) {
			*h = r->idle[--r->nidle];
			r->lent++;
			break;
		}
		/* Fewer than GITP_POOL handles exist (start-up could not open
		 * them all): open one. Under the sandbox this fails for a
		 * repository whose config includes a file outside it; then
		 * wait for a handle like any call beyond the pool. */
		if (r->lent < GITP_POOL) {
			r->lent++; /* the slot, reserved */
			pthread_mutex_unlock(&r->lock);
			if (git_repository_open_ext(h, r->path, GIT_REPOSITORY_OPEN_NO_SEARCH, NULL) < 0)
				*h = NULL;
			pthread_mutex_lock(&r->lock);
			if (*h)
				break;
			if (--r->lent == 0) {
				rc = moat_err_set(err, MOAT_EUPSTREAM,
						  "repo_path: the repository cannot be opened any more");
				break;
			}
		}
		if (ctx && (rc = callctx_check(ctx, err)))
			break;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 50 * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&r->freed, &r->lock, &ts);
	}
	pthread_mutex_unlock(&r->lock);
	return rc;
}

void gitp_release(struct gitp_repo *repo, git_repository *h)
{
	if (!h)
		return;
	pthread_mutex_lock(&repo->lock);
	repo->lent--;
	if (repo->nidle < GITP_POOL) {
		repo->idle[repo->nidle++] = h;
		h = NULL;
	}
	pthread_cond_signal(&repo->freed);
	pthread_mutex_unlock(&repo->lock);
	git_repository_free(h);
}

void gitp_repo_free(struct gitp_repo *repo)
{
	for (size_t i = 0; i < repo->nidle; i++)
		git_repository_free(repo->idle[i]);
	repo->nidle = 0;
	free(repo->name);
	free(repo->path);
	free(repo->workdir);
	free(repo->gitdir);
	free(repo->commondir);
}

/* Would PCRE2 find ".+-[0-9]+-g[0-9a-fA-F]+" (libgit2's describe
 * pattern) in s? */
static bool describe_like(const char *s)
{
	for (size_t p = 1; s[p]; p++) {
		size_t q = p + 1;
		if (s[p] != '-')
			continue;
		while (s[q] >= '0' && s[q] <= '9')
			q++;
		if (q > p + 1 && s[q] == '-' && s[q + 1] == 'g' && isxdigit((unsigned char)s[q + 2]))
			return true;
	}
	return false;
}

/*
 * libgit2 1.5's revparse looks a name up as a reference, then an id, then
 * a `git describe` output (maybe_describe), and that last step leaks its
 * PCRE2 match data (some 20 KB) whenever the name holds "-g" but does not
 * match the pattern: each call could leak. The name is the revision's
 * prefix before its first '^', '~', ':' or "@{". True (and err filled as
 * not found) when libgit2 would take that path; the lookup is then
 * answered here.
 */
static bool describe_leaks(git_repository *h, const char *field, const char *rev,
			   struct moat_err *err)
{
	char name[GITP_REV_MAX_LEN + 1];
	size_t k = strcspn(rev, "^~:");
	const char *at = strstr(rev, "@{");
	git_reference *ref = NULL;

	if (at && (size_t)(at - rev) < k)
		k = (size_t)(at - rev);
	if (k == 0 || k >= sizeof(name))
		return false;
	memcpy(name, rev, k);
	name[k] = '\0';
	if (!strstr(name, "-g") || describe_like(name))
		return false;
	if (git_reference_dwim(&ref, h, name) == 0) {
		git_reference_free(ref);
		return false;
	}
	git_error_clear();
	moat_err_set(err, MOAT_ENOTFOUND, "%s: revspec '%s' not found", field, name);
	return true;
}

enum moat_rc gitp_revparse(struct call_ctx *ctx, git_repository *h, const char *field,
			   const char *revision, git_object_t type, git_object **obj,
			   struct moat_err *err)
{
	git_object *o = NULL, *c = NULL;
	enum moat_rc rc;
	int e;

	*obj = NULL;
	if ((rc = gitp_rev_check(field, revision, err)))
		return rc;
	if (describe_leaks(h, field, revision, err))
		return MOAT_ENOTFOUND;
	e = git_revparse_single(&o, h, revision);
	if (e == GIT_ENOTFOUND || e == GIT_EAMBIGUOUS || e == GIT_EINVALIDSPEC)
		return gitp_git_err(err, e == GIT_ENOTFOUND ? MOAT_ENOTFOUND : MOAT_EINVAL, field);
	if (e < 0)
		return gitp_git_err(err, MOAT_EUPSTREAM, field);
	if (ctx && git_object_peel(&c, o, GIT_OBJECT_COMMIT) == 0) {
		char hex[GIT_OID_HEXSZ + 1];
		gitp_oid_str(git_object_id(c), hex);
		callctx_touch(ctx, "commit", hex);
	}
	git_object_free(c);
	git_error_clear();
	if (type == GIT_OBJECT_ANY) {
		*obj = o;
		return MOAT_OK;
	}
	e = git_object_peel(obj, o, type);
	git_object_free(o);
	if (e == GIT_EPEEL || e == GIT_EINVALIDSPEC || e == GIT_ENOTFOUND) {
		*obj = NULL;
		return gitp_refuse(err, MOAT_EINVAL, "git.revision_type", "%s: does not name a %s",
				   field, git_object_type2string(type));
	}
	if (e < 0) {
		*obj = NULL; /* a damaged object on the way, not a wrong kind */
		return gitp_git_err(err, MOAT_EUPSTREAM, field);
	}
	return MOAT_OK;
}

void gitp_touch_head(struct call_ctx *ctx, git_repository *h)
{
	git_oid id;
	char hex[GIT_OID_HEXSZ + 1];

	if (git_reference_name_to_id(&id, h, "HEAD") == 0) {
		gitp_oid_str(&id, hex);
		callctx_touch(ctx, "commit", hex);
	}
	git_error_clear();
}

void gitp_head_desc(git_repository *h, char *out, size_t n)
{
	git_reference *head = NULL;
	int e;

	if (git_repository_is_bare(h)) {
		snprintf(out, n, "bare repository");
		return;
	}
	e = git_repository_head(&head, h);
	if (e == GIT_EUNBORNBRANCH || e == GIT_ENOTFOUND) {
		git_reference *sym = NULL;
		const char *t = NULL;
		if (git_reference_lookup(&sym, h, "HEAD") == 0)
			t = git_reference_symbolic_target(sym);
		snprintf(out, n, "unborn branch %s",
			 t && strncmp(t, "refs/heads/", 11) == 0 ? t + 11 : (t ? t : "?"));
		git_reference_free(sym);
		return;
	}
	if (e < 0) {
		snprintf(out, n, "unknown HEAD");
		return;
	}
	if (git_repository_head_detached(h) == 1) {
		char id[GIT_OID_HEXSZ + 1];
		gitp_oid_str(git_reference_target(head), id);
		snprintf(out, n, "detached at %.7s", id);
	} else {
		snprintf(out, n, "branch %s", git_reference_shorthand(head));
	}
	git_reference_free(head);
}
