/*
 * git_walk.c - walks over commit history that the family does itself
 * instead of asking libgit2, because libgit2's walks (git_graph_*,
 * git_merge_base, revwalk with sorting) cannot be interrupted: a set of
 * commit ids, the "does this history contain that commit" walk that
 * git_branch's contains/not_contains use, and the counts git_blame uses to
 * bound libgit2's blame.
 *
 * Every walk counts the commits it reads and checks the call's deadline
 * and cancellation every 256 of them, so a call on a long history ends at
 * its deadline with MOAT_ETIMEOUT instead of running on. Thread-safe: the
 * state is the caller's.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gitp.h"

/* The slot to start probing at for id in a table of cap (a power of two). */
static size_t slot(const git_oid *id, size_t cap)
{
	uint32_t v;

	memcpy(&v, id->id, sizeof(v));
	return v & (cap - 1);
}

static bool grow(struct gitp_oidset *s)
{
	size_t nc = s->cap ? s->cap * 2 : 1024;
	git_oid *nv = calloc(nc, sizeof(*nv));

	if (!nv)
		return false;
	for (size_t k = 0; k < s->cap; k++) {
		size_t i;
		if (git_oid_is_zero(&s->v[k]))
			continue;
		for (i = slot(&s->v[k], nc); !git_oid_is_zero(&nv[i]); i = (i + 1) & (nc - 1))
			;
		nv[i] = s->v[k];
	}
	free(s->v);
	s->v = nv;
	s->cap = nc;
	return true;
}

int gitp_oidset_add(struct gitp_oidset *s, const git_oid *id)
{
	size_t i;

	if (git_oid_is_zero(id))
		return 0; /* never stored: zero marks an empty slot */
	if (2 * (s->n + 1) > s->cap && !grow(s))
		return -1;
	for (i = slot(id, s->cap); !git_oid_is_zero(&s->v[i]); i = (i + 1) & (s->cap - 1))
		if (git_oid_equal(&s->v[i], id))
			return 0;
	s->v[i] = *id;
	s->n++;
	return 1;
}

bool gitp_oidset_has(const struct gitp_oidset *s, const git_oid *id)
{
	if (!s->cap)
		return false;
	for (size_t i = slot(id, s->cap); !git_oid_is_zero(&s->v[i]); i = (i + 1) & (s->cap - 1))
		if (git_oid_equal(&s->v[i], id))
			return true;
	return false;
}

void gitp_oidset_free(struct gitp_oidset *s)
{
	free(s->v);
	memset(s, 0, sizeof(*s));
}

/* Push id on the stack (a growing array). False on ENOMEM. */
static bool push(git_oid **stack, size_t *n, size_t *cap, const git_oid *id)
{
	if (*n == *cap) {
		size_t nc = *cap ? *cap * 2 : 64;
		git_oid *ns = realloc(*stack, nc * sizeof(*ns));
		if (!ns)
			return false;
		*stack = ns;
		*cap = nc;
	}
	(*stack)[(*n)++] = *id;
	return true;
}

/* Push the parents of commit id that seen did not hold yet (adding them to
 * it). A commit missing at a shallow clone's boundary ends that line of
 * history: MOAT_OK with nothing pushed. */
static enum moat_rc push_parents(git_repository *h, const git_oid *id, struct gitp_oidset *seen,
				 git_oid **stack, size_t *n, size_t *cap, struct moat_err *err)
{
	git_commit *c = NULL;
	int e = git_commit_lookup(&c, h, id);

	if (e == GIT_ENOTFOUND) {
		git_error_clear();
		return MOAT_OK;
	}
	if (e < 0)
		return gitp_git_err(err, MOAT_EUPSTREAM, "history");
	for (unsigned int p = 0; p < git_commit_parentcount(c); p++) {
		const git_oid *pid = git_commit_parent_id(c, p);
		int a = gitp_oidset_add(seen, pid);
		if (a < 0 || (a > 0 && !push(stack, n, cap, pid))) {
			git_commit_free(c);
			return moat_err_set(err, MOAT_ENOMEM, "out of memory");
		}
	}
	git_commit_free(c);
	return MOAT_OK;
}

enum moat_rc gitp_reaches(struct call_ctx *ctx, git_repository *h, const git_oid *tip,
			  const git_oid *target, struct gitp_oidset *known_not, size_t *steps,
			  bool *yes, struct moat_err *err)
{
	struct gitp_oidset seen = {0};
	git_oid *stack = NULL, id;
	size_t n = 0, cap = 0;
	enum moat_rc rc = MOAT_OK;

	*yes = false;
	if (gitp_oidset_add(&seen, tip) < 0 || !push(&stack, &n, &cap, tip))
		goto oom;
	while (n > 0 && !*yes) {
		id = stack[--n];
		if (git_oid_equal(&id, target)) {
			*yes = true;
			break;
		}
		if (known_not && gitp_oidset_has(known_not, &id))
			continue;
		if ((++*steps & 255) == 0) {
			if ((rc = callctx_check(ctx, err)))
				goto out;
			callctx_progress(ctx, (double)*steps, 0, "commits read");
		}
		if ((rc = push_parents(h, &id, &seen, &stack, &n, &cap, err)))
			goto out;
	}
	/* Nothing this walk read reaches target: later walks stop there. */
	if (!*yes && known_not)
		for (size_t i = 0; i < seen.cap; i++)
			if (!git_oid_is_zero(&seen.v[i]) && gitp_oidset_add(known_not, &seen.v[i]) < 0)
				goto oom;
	goto out;
oom:
	rc = moat_err_set(err, MOAT_ENOMEM, "out of memory");
out:
	free(stack);
	gitp_oidset_free(&seen);
	return rc;
}

enum moat_rc gitp_count_reachable(struct call_ctx *ctx, git_repository *h, const git_oid *tip,
				  size_t limit, size_t *count, struct moat_err *err)
{
	struct gitp_oidset seen = {0};
	git_oid *stack = NULL, id;
	size_t n = 0, cap = 0;
	enum moat_rc rc = MOAT_OK;

	*count = 0;
	if (gitp_oidset_add(&seen, tip) < 0 || !push(&stack, &n, &cap, tip))
		goto oom;
	while (n > 0 && *count <= limit) {
		id = stack[--n];
		if ((++*count & 255) == 0 && (rc = callctx_check(ctx, err)))
			goto out;
		if ((rc = push_parents(h, &id, &seen, &stack, &n, &cap, err)))
			goto out;
	}
	goto out;
oom:
	rc = moat_err_set(err, MOAT_ENOMEM, "out of memory");
out:
	free(stack);
	gitp_oidset_free(&seen);
	return rc;
}

enum moat_rc gitp_first_parent_back(struct call_ctx *ctx, git_repository *h, const git_oid *tip,
				    size_t n, git_oid *out, struct moat_err *err)
{
	enum moat_rc rc;

	*out = *tip;
	for (size_t i = 0; i < n; i++) {
		git_commit *c = NULL;
		if ((i & 255) == 255 && (rc = callctx_check(ctx, err)))
			return rc;
		if (git_commit_lookup(&c, h, out) < 0)
			return gitp_git_err(err, MOAT_EUPSTREAM, "history");
		if (git_commit_parentcount(c) == 0) {
			git_commit_free(c);
			break;
		}
		*out = *git_commit_parent_id(c, 0);
		git_commit_free(c);
	}
	return MOAT_OK;
}
