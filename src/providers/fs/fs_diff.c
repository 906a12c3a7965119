/*
 * fs_diff.c - unified diffs for edit_file, in the reference server's format.
 *
 * A port of what jsdiff 8 (the `diff` npm package) does in
 * createTwoFilesPatch: split both texts into lines that keep their '\n',
 * find a shortest edit script with jsdiff's Myers variant (same choice
 * between insertion and removal, same pruning at the edges of the edit
 * graph, same merging of runs into components), then cut the components
 * into hunks with `context` lines around each change, merging hunks whose
 * gap is at most twice the context. The exact search keeps a persistent
 * list of components per diagonal in an arena; when its steps or nodes
 * exceed max_work the diff falls back to "common prefix, one replaced
 * block, common suffix", which is correct but not minimal.
 */
#include "fs_diff.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One line: bytes [off, off + len) of its text, '\n' included if present. */
struct tok {
	uint32_t off;
	uint32_t len;
	uint32_t hash;
};

struct side {
	const char *s;
	struct tok *t;
	size_t n;
};

enum comp_kind { COMP_COMMON = 0, COMP_ADDED = 1, COMP_REMOVED = 2 };

/* A run of lines of one kind; prev links to the earlier component. */
struct node {
	uint32_t count;
	uint8_t kind;
	int32_t prev; /* -1 = none */
};

/* The furthest point reached on one diagonal, as in jsdiff's bestPath. */
struct path {
	int64_t old_pos;
	int32_t last;
	bool live;
};

struct comp {
	enum comp_kind kind;
	size_t count;
	size_t old_at; /* first line in a (common, removed) */
	size_t new_at; /* first line in b (common, added) */
};

/* A growable text buffer that refuses to pass max bytes. */
struct dbuf {
	char *p;
	size_t len, cap, max;
	bool over;
};

struct myers {
	const struct side *a, *b;
	struct node *nodes;
	size_t nnodes, capnodes;
	size_t steps, max_work; /* equality steps taken / allowed */
	size_t max_nodes;       /* components kept for all diagonals */
	const struct fs_diff_opts *o;
	struct moat_err *err;
};

/* dbuf_add - append n bytes; false (and over set) past max or on ENOMEM. */
static bool dbuf_add(struct dbuf *d, const char *s, size_t n)
{
	if (d->over)
		return false;
	if (n > d->max - d->len) {
		d->over = true;
		return false;
	}
	if (d->len + n + 1 > d->cap) {
		size_t nc = d->cap ? d->cap : 256;
		while (nc < d->len + n + 1)
			nc *= 2;
		char *np = realloc(d->p, nc);
		if (!np)
			return false;
		d->p = np;
		d->cap = nc;
	}
	memcpy(d->p + d->len, s, n);
	d->len += n;
	d->p[d->len] = '\0';
	return true;
}

static bool dbuf_str(struct dbuf *d, const char *s)
{
	return dbuf_add(d, s, strlen(s));
}

/* Split s into '\n'-terminated lines (the last may lack it), as jsdiff's
 * line tokenizer does for text without a lone "\r\n" distinction. */
static enum moat_rc tokenize(const char *s, size_t len, size_t max_lines, struct side *out,
			     struct moat_err *err)
{
	size_t n = 0, i = 0;

	out->s = s;
	out->t = NULL;
	out->n = 0;
	if (len >= UINT32_MAX)
		return moat_err_set(err, MOAT_ELIMIT, "diff: a text of 4 GiB or more is not diffed");
	for (size_t k = 0; k < len; k++)
		if (s[k] == '\n')
			n++;
	if (len > 0 && s[len - 1] != '\n')
		n++;
	if (n > max_lines)
		return moat_err_set(err, MOAT_ELIMIT,
				    "diff: more than %zu lines; the diff is not computed", max_lines);
	if (n == 0)
		return MOAT_OK;
	out->t = calloc(n, sizeof(*out->t));
	if (!out->t)
		return moat_err_set(err, MOAT_ENOMEM, "out of memory");
	for (size_t start = 0; start < len; i++) {
		const char *nl = memchr(s + start, '\n', len - start);
		size_t end = nl ? (size_t)(nl - s) + 1 : len;
		uint32_t h = 2166136261u; /* FNV-1a */
		for (size_t k = start; k < end; k++)
			h = (h ^ (unsigned char)s[k]) * 16777619u;
		out->t[i] = (struct tok){.off = (uint32_t)start, .len = (uint32_t)(end - start), .hash = h};
		start = end;
	}
	out->n = n;
	return MOAT_OK;
}

static bool tok_eq(const struct side *a, size_t i, const struct side *b, size_t j)
{
	const struct tok *x = &a->t[i], *y = &b->t[j];

	return x->hash == y->hash && x->len == y->len &&
	       memcmp(a->s + x->off, b->s + y->off, x->len) == 0;
}

/* A new node, or -2 when the work budget is spent or memory runs out. */
static int32_t node_new(struct myers *m, uint32_t count, uint8_t kind, int32_t prev)
{
	if (m->nnodes >= m->max_nodes || m->nnodes >= INT32_MAX)
		return -2;
	if (m->nnodes == m->capnodes) {
		size_t nc = m->capnodes ? m->capnodes * 2 : 1024;
		struct node *nn = realloc(m->nodes, nc * sizeof(*nn));
		if (!nn)
			return -2;
		m->nodes = nn;
		m->capnodes = nc;
	}
	m->nodes[m->nnodes] = (struct node){.count = count, .kind = kind, .prev = prev};
	return (int32_t)m->nnodes++;
}

/* jsdiff addToPath: one insertion (added) or removal step from p. */
static bool add_to_path(struct myers *m, const struct path *p, uint8_t kind, struct path *res)
{
	int32_t last = p->last, n;

	if (last >= 0 && m->nodes[last].kind == kind)
		n = node_new(m, m->nodes[last].count + 1, kind, m->nodes[last].prev);
	else
		n = node_new(m, 1, kind, last);
	if (n < 0)
		return false;
	res->old_pos = p->old_pos + (kind == COMP_REMOVED ? 1 : 0);
	res->last = n;
	res->live = true;
	return true;
}

/* jsdiff extractCommon: follow the snake on diagonal diag; returns the new
 * position in b, or INT64_MIN when the budget is spent. */
static int64_t extract_common(struct myers *m, struct path *p, int64_t diag)
{
	int64_t old_pos = p->old_pos, new_pos = old_pos - diag;
	int64_t olen = (int64_t)m->a->n, nlen = (int64_t)m->b->n;
	uint32_t common = 0;

	while (new_pos + 1 < nlen && old_pos + 1 < olen &&
	       tok_eq(m->a, (size_t)old_pos + 1, m->b, (size_t)new_pos + 1)) {
		new_pos++;
		old_pos++;
		common++;
	}
	m->steps += common + 1;
	if (common) {
		int32_t n = node_new(m, common, COMP_COMMON, p->last);
		if (n < 0)
			return INT64_MIN;
		p->last = n;
	}
	p->old_pos = old_pos;
	return new_pos;
}

/* Turn the node chain ending at last into components in file order. */
static enum moat_rc chain_to_comps(struct myers *m, int32_t last, struct comp **out, size_t *nout)
{
	size_t n = 0, oi = 0, ni = 0;
	struct comp *c;

	for (int32_t k = last; k >= 0; k = m->nodes[k].prev)
		n++;
	c = calloc(n + 1, sizeof(*c));
	if (!c)
		return moat_err_set(m->err, MOAT_ENOMEM, "out of memory");
	size_t i = n;
	for (int32_t k = last; k >= 0; k = m->nodes[k].prev) {
		i--;
		c[i].kind = (enum comp_kind)m->nodes[k].kind;
		c[i].count = m->nodes[k].count;
	}
	for (i = 0; i < n; i++) {
		c[i].old_at = oi;
		c[i].new_at = ni;
		if (c[i].kind != COMP_ADDED)
			oi += c[i].count;
		if (c[i].kind != COMP_REMOVED)
			ni += c[i].count;
	}
	*out = c;
	*nout = n;
	return MOAT_OK;
}

/*
 * jsdiff's Diff.diffWithOptionsObj. MOAT_OK with *done true and the
 * components, MOAT_OK with *done false when the budget ran out (use the
 * coarse diff), or an error.
 */
static enum moat_rc myers_run(struct myers *m, struct comp **out, size_t *nout, bool *done)
{
	int64_t olen = (int64_t)m->a->n, nlen = (int64_t)m->b->n;
	int64_t max_edit = olen + nlen, min_diag = INT64_MIN, max_diag = INT64_MAX;
	int64_t span, new_pos;
	size_t next_check = 0;
	struct path *best = NULL;
	enum moat_rc rc = MOAT_OK;

	*done = false;
	/* Diagonals in [-D-1, D+1] are touched while the edit length is D;
	 * every edit length adds a node, so D never passes the node budget. */
	span = max_edit;
	if ((uint64_t)span > (uint64_t)m->max_nodes)
		span = (int64_t)m->max_nodes;
	if ((uint64_t)span > (SIZE_MAX / sizeof(*best) - 4) / 2)
		return MOAT_OK;
	best = calloc((size_t)(2 * span + 3), sizeof(*best));
	if (!best)
		return moat_err_set(m->err, MOAT_ENOMEM, "out of memory");
#define BEST(d) best[(d) + span + 1]
	BEST(0) = (struct path){.old_pos = -1, .last = -1, .live = true};
	new_pos = extract_common(m, &BEST(0), 0);
	if (new_pos == INT64_MIN)
		goto out;
	if (BEST(0).old_pos + 1 >= olen && new_pos + 1 >= nlen) {
		rc = chain_to_comps(m, BEST(0).last, out, nout);
		*done = rc == MOAT_OK;
		goto out;
	}
	for (int64_t e = 1; e <= max_edit; e++) {
		int64_t lo = min_diag > -e ? min_diag : -e;
		int64_t hi = max_diag < e ? max_diag : e;
		if (e > span)
			goto out; /* beyond the budget: coarse */
		for (int64_t d = lo; d <= hi; d += 2) {
			struct path rem = BEST(d - 1), add = BEST(d + 1), base;
			bool can_add = false, can_remove;
			if (rem.live)
				BEST(d - 1).live = false;
			if (add.live) {
				int64_t add_new_pos = add.old_pos - d;
				can_add = add_new_pos >= 0 && add_new_pos < nlen;
			}
			can_remove = rem.live && rem.old_pos + 1 < olen;
			if (!can_add && !can_remove) {
				BEST(d).live = false;
				continue;
			}
			if (!can_remove || (can_add && rem.old_pos < add.old_pos)) {
				if (!add_to_path(m, &add, COMP_ADDED, &base))
					goto out;
			} else if (!add_to_path(m, &rem, COMP_REMOVED, &base)) {
				goto out;
			}
			new_pos = extract_common(m, &base, d);
			if (new_pos == INT64_MIN)
				goto out;
			if (base.old_pos + 1 >= olen && new_pos + 1 >= nlen) {
				rc = chain_to_comps(m, base.last, out, nout);
				*done = rc == MOAT_OK;
				goto out;
			}
			BEST(d) = base;
			if (base.old_pos + 1 >= olen && d - 1 < max_diag)
				max_diag = d - 1;
			if (new_pos + 1 >= nlen && d + 1 > min_diag)
				min_diag = d + 1;
			if (m->steps > m->max_work)
				goto out;
			if (m->o->check && m->steps >= next_check) {
				next_check = m->steps + 65536;
				if ((rc = m->o->check(m->o->check_arg, m->err)))
					goto out;
			}
		}
	}
#undef BEST
out:
	free(best);
	return rc;
}

/* The fallback: common prefix, the rest of a removed, the rest of b added,
 * common suffix. */
static enum moat_rc coarse_comps(const struct side *a, const struct side *b, struct comp **out,
				 size_t *nout, struct moat_err *err)
{
	size_t pre = 0, suf = 0, n = 0;
	struct comp *c = calloc(5, sizeof(*c));

	if (!c)
		return moat_err_set(err, MOAT_ENOMEM, "out of memory");
	while (pre < a->n && pre < b->n && tok_eq(a, pre, b, pre))
		pre++;
	while (suf < a->n - pre && suf < b->n - pre && tok_eq(a, a->n - 1 - suf, b, b->n - 1 - suf))
		suf++;
	if (pre)
		c[n++] = (struct comp){COMP_COMMON, pre, 0, 0};
	if (a->n - pre - suf)
		c[n++] = (struct comp){COMP_REMOVED, a->n - pre - suf, pre, pre};
	if (b->n - pre - suf)
		c[n++] = (struct comp){COMP_ADDED, b->n - pre - suf, a->n - suf, pre};
	if (suf)
		c[n++] = (struct comp){COMP_COMMON, suf, a->n - suf, b->n - suf};
	*out = c;
	*nout = n;
	return MOAT_OK;
}

/* One line of a hunk: its sign and the line it shows. */
struct hline {
	char sign;   /* ' ', '+', '-' */
	bool from_a; /* the line is a->t[idx], else b->t[idx] */
	size_t idx;
};

struct hunks {
	const struct side *a, *b;
	struct hline *lines;
	size_t n, cap;
	struct dbuf *out;
};

static bool hunk_push(struct hunks *h, char sign, bool from_a, size_t idx)
{
	if (h->n == h->cap) {
		size_t nc = h->cap ? h->cap * 2 : 64;
		struct hline *nl = realloc(h->lines, nc * sizeof(*nl));
		if (!nl)
			return false;
		h->lines = nl;
		h->cap = nc;
	}
	h->lines[h->n++] = (struct hline){.sign = sign, .from_a = from_a, .idx = idx};
	return true;
}

/* Push lines [from, from + count) of component c with sign. */
static bool hunk_push_comp(struct hunks *h, const struct comp *c, char sign, size_t from,
			   size_t count)
{
	bool from_a = c->kind == COMP_REMOVED;
	size_t base = from_a ? c->old_at : c->new_at;

	for (size_t k = from; k < from + count; k++)
		if (!hunk_push(h, sign, from_a, base + k))
			return false;
	return true;
}

/* Print the collected hunk (formatPatch plus the "\ No newline" step). */
static bool hunk_emit(struct hunks *h, size_t old_start, size_t old_lines, size_t new_start,
		      size_t new_lines)
{
	char hdr[96];
	int n;

	if (old_lines == 0)
		old_start--;
	if (new_lines == 0)
		new_start--;
	n = snprintf(hdr, sizeof(hdr), "@@ -%zu,%zu +%zu,%zu @@\n", old_start, old_lines, new_start,
		     new_lines);
	if (n < 0 || (size_t)n >= sizeof(hdr) || !dbuf_add(h->out, hdr, (size_t)n))
		return false;
	for (size_t i = 0; i < h->n; i++) {
		const struct side *s = h->lines[i].from_a ? h->a : h->b;
		const struct tok *t = &s->t[h->lines[i].idx];
		if (!dbuf_add(h->out, &h->lines[i].sign, 1) ||
		    !dbuf_add(h->out, s->s + t->off, t->len))
			return false;
		if (t->len == 0 || s->s[t->off + t->len - 1] != '\n') {
			if (!dbuf_str(h->out, "\n\\ No newline at end of file\n"))
				return false;
		}
	}
	h->n = 0;
	return true;
}

/* jsdiff structuredPatch's diffLinesResultToPatch over comps[0..n), with
 * the empty sentinel component it appends. */
static bool build_hunks(struct hunks *h, const struct comp *comps, size_t n, size_t context)
{
	static const struct comp sentinel = {COMP_COMMON, 0, 0, 0};
	size_t old_range = 0, new_range = 0, old_line = 1, new_line = 1, total = n + 1;

	for (size_t i = 0; i < total; i++) {
		const struct comp *c = i < n ? &comps[i] : &sentinel;
		if (c->kind != COMP_COMMON) {
			if (!old_range) {
				old_range = old_line;
				new_range = new_line;
				if (i > 0 && context > 0) {
					const struct comp *p = &comps[i - 1];
					size_t k = p->count < context ? p->count : context;
					if (!hunk_push_comp(h, p, ' ', p->count - k, k))
						return false;
					old_range -= k;
					new_range -= k;
				}
			}
			if (!hunk_push_comp(h, c, c->kind == COMP_ADDED ? '+' : '-', 0, c->count))
				return false;
			if (c->kind == COMP_ADDED)
				new_line += c->count;
			else
				old_line += c->count;
			continue;
		}
		if (old_range) {
			if (c->count <= context * 2 && i + 2 < total) {
				if (!hunk_push_comp(h, c, ' ', 0, c->count))
					return false;
			} else {
				size_t k = c->count < context ? c->count : context;
				if (!hunk_push_comp(h, c, ' ', 0, k) ||
				    !hunk_emit(h, old_range, old_line - old_range + k, new_range,
					       new_line - new_range + k))
					return false;
				old_range = 0;
				new_range = 0;
			}
		}
		old_line += c->count;
		new_line += c->count;
	}
	return true;
}

enum moat_rc fs_diff_unified(const char *name, const char *a, size_t alen, const char *b,
			     size_t blen, const struct fs_diff_opts *opts, char **out,
			     size_t *outlen, bool *coarse, struct moat_err *err)
{
	struct fs_diff_opts o = opts ? *opts : (struct fs_diff_opts){.context = 4};
	struct side sa = {0}, sb = {0};
	struct myers m = {0};
	struct comp *comps = NULL;
	size_t ncomps = 0;
	struct dbuf d = {0};
	struct hunks h = {0};
	bool done = false;
	enum moat_rc rc;

	*out = NULL;
	*outlen = 0;
	if (coarse)
		*coarse = false;
	if (!o.max_bytes)
		o.max_bytes = FS_DIFF_DEFAULT_MAX_BYTES;
	if (!o.max_lines)
		o.max_lines = FS_DIFF_DEFAULT_MAX_LINES;
	if (!o.max_work)
		o.max_work = FS_DIFF_DEFAULT_MAX_WORK;
	d.max = o.max_bytes;
	if ((rc = tokenize(a, alen, o.max_lines, &sa, err)) ||
	    (rc = tokenize(b, blen, o.max_lines - sa.n, &sb, err)))
		goto out;
	m = (struct myers){.a = &sa,
			   .b = &sb,
			   .max_work = o.max_work,
			   .max_nodes = o.max_work / 16 + 1024,
			   .o = &o,
			   .err = err};
	if ((rc = myers_run(&m, &comps, &ncomps, &done)))
		goto out;
	if (!done) {
		if (coarse)
			*coarse = true;
		if ((rc = coarse_comps(&sa, &sb, &comps, &ncomps, err)))
			goto out;
	}
	h = (struct hunks){.a = &sa, .b = &sb, .out = &d};
	if (!dbuf_str(&d, "Index: ") || !dbuf_str(&d, name) ||
	    !dbuf_str(&d, "\n===================================================================\n"
			  "--- ") ||
	    !dbuf_str(&d, name) || !dbuf_str(&d, "\toriginal\n+++ ") || !dbuf_str(&d, name) ||
	    !dbuf_str(&d, "\tmodified\n") || !build_hunks(&h, comps, ncomps, o.context)) {
		if (d.over)
			rc = moat_err_set(err, MOAT_ELIMIT,
					  "the diff is longer than the %zu-byte limit", o.max_bytes);
		else
			rc = moat_err_set(err, MOAT_ENOMEM, "out of memory");
		goto out;
	}
	if (!d.p && !dbuf_add(&d, "", 0)) {
		rc = moat_err_set(err, MOAT_ENOMEM, "out of memory");
		goto out;
	}
	*out = d.p;
	*outlen = d.len;
	d.p = NULL;
out:
	free(d.p);
	free(h.lines);
	free(comps);
	free(m.nodes);
	free(sa.t);
	free(sb.t);
	return rc;
}

enum moat_rc fs_diff_fence(const char *diff, size_t len, char **out, size_t *outlen,
			   struct moat_err *err)
{
	size_t run = 0, longest = 0, ticks, total;
	char *p;

	*out = NULL;
	*outlen = 0;
	for (size_t i = 0; i < len; i++) {
		run = diff[i] == '`' ? run + 1 : 0;
		if (run > longest)
			longest = run;
	}
	ticks = longest >= 3 ? longest + 1 : 3;
	if (len > SIZE_MAX / 2 - 2 * ticks - 16)
		return moat_err_set(err, MOAT_ELIMIT, "the diff is too long to wrap");
	total = ticks + 5 + len + ticks + 2;
	p = malloc(total + 1);
	if (!p)
		return moat_err_set(err, MOAT_ENOMEM, "out of memory");
	memset(p, '`', ticks);
	memcpy(p + ticks, "diff\n", 5);
	memcpy(p + ticks + 5, diff, len);
	memset(p + ticks + 5 + len, '`', ticks);
	memcpy(p + total - 2, "\n\n", 2);
	p[total] = '\0';
	*out = p;
	*outlen = total;
	return MOAT_OK;
}
