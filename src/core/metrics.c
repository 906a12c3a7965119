/*
 * metrics.c - the counters behind GET /metrics, and their exposition in
 * the Prometheus text format 0.0.4.
 *
 * Every tool call notes here, so noting takes no lock: each counter is a
 * C11 atomic added to with relaxed order, in arrays sized when the metrics
 * are made. A tool is found by the address of its name (the server hands
 * over the registry's own string), falling back to its text, in two small
 * open-addressing tables built once and only read afterwards. Rule ids
 * (refusals, authentication failures, rate-limit hits) are moat's own
 * strings, but not known in advance: each is interned into a fixed table,
 * copied into the first free slot of its hash's probe sequence (claimed
 * by compare-and-swap, marked ready once the copy is done), and a rule id
 * that finds the table full, or is not shaped like a rule id, is counted
 * as "other". A thread that meets a slot still being written passes it
 * by rather than wait, so a rule seen for the first time by two threads at
 * once may take two slots; rendering adds such rows together. Copying
 * (rather than keeping the caller's pointer) means a rule id from a module
 * or a buffer need not outlive the metrics.
 *
 * Rendering reads every counter once, without stopping the writers: a
 * histogram's _count is the sum of the bucket counts it read, so the
 * +Inf bucket and _count always agree, and its _sum is read beside them
 * (it may run a call ahead or behind, as with any Prometheus client).
 * Written by hand because the exposition format is a few lines of text and
 * the C client libraries (prometheus-client-c) take a lock per observation.
 */
#include "metrics.h"
#include "store.h"
#include "text.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The outcomes a call or resource request can have (moat_rc_name), in the
 * order they are rendered; anything else is counted as "other". */
static const char *const outcomes[] = {
	"ok",      "invalid",  "denied",   "not_found", "limit", "timeout",
	"cancelled", "upstream", "io", "out_of_memory", "internal", "input_required",
	"no_capability", "other",
};
#define NOUT (sizeof(outcomes) / sizeof(outcomes[0]))

/* Latency buckets, in microseconds and as rendered. Most moat calls take
 * tens of microseconds, so the scale starts below Prometheus' default. */
static const uint64_t bucket_us[] = {
	100, 250, 500, 1000, 2500, 5000, 10000, 25000, 50000, 100000,
	250000, 500000, 1000000, 2500000, 5000000, 10000000,
};
static const char *const bucket_le[] = {
	"0.0001", "0.00025", "0.0005", "0.001", "0.0025", "0.005", "0.01", "0.025",
	"0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "10",
};
#define NBUCKET (sizeof(bucket_us) / sizeof(bucket_us[0]))

/* The resource methods the server audits. */
static const char *const res_methods[] = {"resources/list", "resources/read", "other"};
#define NRES (sizeof(res_methods) / sizeof(res_methods[0]))

#define RULE_MAX 64           /* bytes of a rule id used as a label */
#define REFUSAL_SLOTS 128     /* docs/audit.md lists about 75 rule ids */
#define AUTH_SLOTS 32
#define RATE_SLOTS 32
#define RENDER_MAX (16u << 20) /* bytes of one exposition */

/* One tool's counters, on a cache line of its own so that calls to two
 * tools on two CPUs do not share one. */
struct mtool {
	_Alignas(64) atomic_uint_fast64_t calls[NOUT];
	atomic_uint_fast64_t buckets[NBUCKET + 1]; /* non-cumulative; last: +Inf */
	atomic_uint_fast64_t sum_us;
	const char *name; /* the registry's string, borrowed */
};

/* Counters per interned rule id. */
enum { SLOT_FREE, SLOT_WRITING, SLOT_READY };

struct rule_slot {
	atomic_uint state;
	char name[RULE_MAX]; /* written once, before state becomes SLOT_READY */
	atomic_uint_fast64_t count;
};

struct rule_table {
	size_t size; /* a power of two */
	struct rule_slot *slots;
	atomic_uint_fast64_t other;
};

struct metrics {
	struct mtool *tools;  /* ntools, 64-byte aligned */
	size_t ntools;
	uint32_t *by_ptr;     /* index + 1 by the name's address; 0 free */
	uint32_t *by_name;    /* index + 1 by the name's text */
	size_t tsize;         /* size of both tables, a power of two */
	atomic_uint_fast64_t res[NRES][NOUT];
	struct rule_table refusals, auth, rate;
	atomic_int_fast64_t sessions;
	struct timespec started; /* CLOCK_REALTIME at metrics_new */
};

static uint64_t hash_ptr(const void *p)
{
	uint64_t h = (uint64_t)(uintptr_t)p;

	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	return h;
}

static bool rule_table_init(struct rule_table *t, size_t size)
{
	t->size = size;
	t->slots = calloc(size, sizeof(*t->slots)); /* all-zero atomics are zero-valued */
	atomic_init(&t->other, 0);
	return t->slots != NULL;
}

static void rule_table_free(struct rule_table *t)
{
	free(t->slots);
}

/* A rule id as a label: [a-z0-9_.] and short, so nothing unexpected can
 * become a label value even if a caller broke the contract. */
static bool rule_ok(const char *s)
{
	size_t n = 0;

	for (; s[n]; n++) {
		char c = s[n];
		if (n >= RULE_MAX - 1 ||
		    !((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.'))
			return false;
	}
	return n > 0;
}

/* Count one for rule in t, interning it on first sight. Lock-free. */
static void rule_table_add(struct rule_table *t, const char *rule)
{
	size_t mask = t->size - 1, i;

	if (!rule || !rule_ok(rule)) {
		atomic_fetch_add_explicit(&t->other, 1, memory_order_relaxed);
		return;
	}
	i = (size_t)text_hash(rule, strlen(rule), 0) & mask;
	for (size_t probes = 0; probes < t->size; probes++, i = (i + 1) & mask) {
		struct rule_slot *sl = &t->slots[i];
		unsigned st = atomic_load_explicit(&sl->state, memory_order_acquire);
		if (st == SLOT_FREE) {
			if (atomic_compare_exchange_strong_explicit(&sl->state, &st, SLOT_WRITING,
								    memory_order_acq_rel,
								    memory_order_acquire)) {
				snprintf(sl->name, sizeof(sl->name), "%s", rule); /* rule_ok: fits */
				atomic_fetch_add_explicit(&sl->count, 1, memory_order_relaxed);
				atomic_store_explicit(&sl->state, SLOT_READY, memory_order_release);
				return;
			}
			/* st now holds what another thread made of the slot */
		}
		if (st == SLOT_READY && strcmp(sl->name, rule) == 0) {
			atomic_fetch_add_explicit(&sl->count, 1, memory_order_relaxed);
			return;
		}
	}
	atomic_fetch_add_explicit(&t->other, 1, memory_order_relaxed);
}

static size_t pow2_at_least(size_t n)
{
	size_t p = 8;

	while (p < n)
		p <<= 1;
	return p;
}

static void tool_index_put(uint32_t *table, size_t size, uint64_t h, uint32_t idx)
{
	size_t i = (size_t)h & (size - 1);

	while (table[i])
		i = (i + 1) & (size - 1);
	table[i] = idx + 1;
}

/* The counters of the tool called name, or NULL (not in the registry when
 * the metrics were made). */
static struct mtool *tool_lookup(struct metrics *m, const char *name)
{
	size_t mask = m->tsize - 1, i = (size_t)hash_ptr(name) & mask;
	uint32_t e;

	while ((e = m->by_ptr[i]) != 0) {
		if (m->tools[e - 1].name == name)
			return &m->tools[e - 1];
		i = (i + 1) & mask;
	}
	i = (size_t)text_hash(name, strlen(name), 0) & mask;
	while ((e = m->by_name[i]) != 0) {
		if (strcmp(m->tools[e - 1].name, name) == 0)
			return &m->tools[e - 1];
		i = (i + 1) & mask;
	}
	return NULL;
}

struct metrics *metrics_new(const struct registry *reg)
{
	struct metrics *m = calloc(1, sizeof(*m));
	size_t n = reg ? registry_count(reg) : 0;

	if (!m)
		return NULL;
	clock_gettime(CLOCK_REALTIME, &m->started);
	atomic_init(&m->sessions, 0);
	for (size_t r = 0; r < NRES; r++)
		for (size_t o = 0; o < NOUT; o++)
			atomic_init(&m->res[r][o], 0);
	if (!rule_table_init(&m->refusals, REFUSAL_SLOTS) ||
	    !rule_table_init(&m->auth, AUTH_SLOTS) || !rule_table_init(&m->rate, RATE_SLOTS))
		goto fail;
	m->tsize = pow2_at_least(2 * n + 1);
	m->by_ptr = calloc(m->tsize, sizeof(*m->by_ptr));
	m->by_name = calloc(m->tsize, sizeof(*m->by_name));
	if (!m->by_ptr || !m->by_name)
		goto fail;
	if (n > 0) {
		size_t bytes = n * sizeof(struct mtool);
		m->tools = aligned_alloc(_Alignof(struct mtool), bytes);
		if (!m->tools)
			goto fail;
		memset(m->tools, 0, bytes); /* all-zero atomics are zero-valued */
	}
	m->ntools = n;
	for (size_t i = 0; i < n; i++) {
		const char *name = registry_at(reg, i)->name;
		m->tools[i].name = name;
		tool_index_put(m->by_ptr, m->tsize, hash_ptr(name), (uint32_t)i);
		tool_index_put(m->by_name, m->tsize, text_hash(name, strlen(name), 0), (uint32_t)i);
	}
	return m;
fail:
	metrics_free(m);
	return NULL;
}

void metrics_free(struct metrics *m)
{
	if (!m)
		return;
	rule_table_free(&m->refusals);
	rule_table_free(&m->auth);
	rule_table_free(&m->rate);
	free(m->by_ptr);
	free(m->by_name);
	free(m->tools);
	free(m);
}

static size_t outcome_index(const char *outcome)
{
	if (!outcome)
		return NOUT - 1;
	for (size_t i = 0; i < NOUT - 1; i++)
		if (strcmp(outcomes[i], outcome) == 0)
			return i;
	return NOUT - 1;
}

static void note_call(struct metrics *m, const struct audit_event *ev)
{
	struct mtool *t;
	size_t b = 0;

	if (!ev->tool || !(t = tool_lookup(m, ev->tool)))
		return; /* an unknown tool's name came from the client: not a label */
	atomic_fetch_add_explicit(&t->calls[outcome_index(ev->outcome)], 1, memory_order_relaxed);
	while (b < NBUCKET && ev->duration_us > bucket_us[b])
		b++;
	atomic_fetch_add_explicit(&t->buckets[b], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&t->sum_us, ev->duration_us, memory_order_relaxed);
}

static void note_resource(struct metrics *m, const struct audit_event *ev)
{
	size_t r = NRES - 1;

	for (size_t i = 0; ev->tool && i < NRES - 1; i++)
		if (strcmp(res_methods[i], ev->tool) == 0)
			r = i;
	atomic_fetch_add_explicit(&m->res[r][outcome_index(ev->outcome)], 1,
				  memory_order_relaxed);
}

void metrics_note(struct metrics *m, const struct audit_event *ev)
{
	if (!m || !ev || !ev->kind)
		return;
	if (strcmp(ev->kind, "call") == 0)
		note_call(m, ev);
	else if (strcmp(ev->kind, "resource") == 0)
		note_resource(m, ev);
	if (ev->rule)
		rule_table_add(&m->refusals, ev->rule);
}

void metrics_auth_failure(struct metrics *m, const char *reason)
{
	if (m)
		rule_table_add(&m->auth, reason);
}

void metrics_sessions(struct metrics *m, int delta)
{
	if (m)
		atomic_fetch_add_explicit(&m->sessions, delta, memory_order_relaxed);
}

void metrics_rate_limited(struct metrics *m, const char *rule)
{
	if (m)
		rule_table_add(&m->rate, rule);
}

/* ---- rendering ---- */

/* The exposition under construction, at most RENDER_MAX bytes. */
struct mbuf {
	char *data;
	size_t len, cap;
	bool failed;
};

static void put(struct mbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void put(struct mbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->failed)
		return;
	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(b->data + b->len, b->cap - b->len, fmt, ap);
		va_end(ap);
		if (n < 0) {
			b->failed = true;
			return;
		}
		if ((size_t)n < b->cap - b->len) {
			b->len += (size_t)n;
			return;
		}
		size_t cap = b->cap * 2;
		char *d;
		if (cap > RENDER_MAX || !(d = realloc(b->data, cap))) {
			b->failed = true;
			return;
		}
		b->data = d;
		b->cap = cap;
	}
}

/* A label value escaped per the text format: backslash, double quote and
 * line feed. Label values here are moat's own names, so this is a guard. */
static void put_label(struct mbuf *b, const char *v)
{
	char esc[2 * RULE_MAX + 2 * 64 + 8];
	size_t n = 0;

	for (; *v && n < sizeof(esc) - 3; v++) {
		if (*v == '\\' || *v == '"') {
			esc[n++] = '\\';
			esc[n++] = *v;
		} else if (*v == '\n') {
			esc[n++] = '\\';
			esc[n++] = 'n';
		} else {
			esc[n++] = *v;
		}
	}
	esc[n] = '\0';
	put(b, "%s", esc);
}

static void put_head(struct mbuf *b, const char *name, const char *type, const char *help)
{
	put(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static uint64_t rd(atomic_uint_fast64_t *c)
{
	return atomic_load_explicit(c, memory_order_relaxed);
}

static void put_tools(struct mbuf *b, struct metrics *m)
{
	put_head(b, "moat_tool_calls_total", "counter",
		 "Tool calls answered, by tool and outcome.");
	for (size_t i = 0; i < m->ntools; i++)
		for (size_t o = 0; o < NOUT; o++) {
			uint64_t v = rd(&m->tools[i].calls[o]);
			if (v == 0)
				continue;
			put(b, "moat_tool_calls_total{tool=\"");
			put_label(b, m->tools[i].name);
			put(b, "\",outcome=\"%s\"} %llu\n", outcomes[o], (unsigned long long)v);
		}
	put_head(b, "moat_tool_call_duration_seconds", "histogram",
		 "Time from a tool call's admission to its answer, by tool.");
	for (size_t i = 0; i < m->ntools; i++) {
		struct mtool *t = &m->tools[i];
		uint64_t cum = 0, n[NBUCKET + 1], sum;
		for (size_t k = 0; k <= NBUCKET; k++) {
			n[k] = rd(&t->buckets[k]);
			cum += n[k];
		}
		if (cum == 0)
			continue;
		sum = rd(&t->sum_us);
		cum = 0;
		for (size_t k = 0; k <= NBUCKET; k++) {
			cum += n[k];
			put(b, "moat_tool_call_duration_seconds_bucket{tool=\"");
			put_label(b, t->name);
			put(b, "\",le=\"%s\"} %llu\n", k < NBUCKET ? bucket_le[k] : "+Inf",
			    (unsigned long long)cum);
		}
		put(b, "moat_tool_call_duration_seconds_sum{tool=\"");
		put_label(b, t->name);
		put(b, "\"} %llu.%06llu\n", (unsigned long long)(sum / 1000000u),
		    (unsigned long long)(sum % 1000000u));
		put(b, "moat_tool_call_duration_seconds_count{tool=\"");
		put_label(b, t->name);
		put(b, "\"} %llu\n", (unsigned long long)cum);
	}
}

static void put_resources(struct mbuf *b, struct metrics *m)
{
	put_head(b, "moat_resource_requests_total", "counter",
		 "Resource lists and reads answered, by method and outcome.");
	for (size_t r = 0; r < NRES; r++)
		for (size_t o = 0; o < NOUT; o++) {
			uint64_t v = rd(&m->res[r][o]);
			if (v > 0)
				put(b, "moat_resource_requests_total{method=\"%s\",outcome=\"%s\"} %llu\n",
				    res_methods[r], outcomes[o], (unsigned long long)v);
		}
}

/* One counter family over an interned table, rows sorted by rule id (two
 * slots of one rule added together), the overflow last as "other". */
static void put_rules(struct mbuf *b, struct rule_table *t, const char *name, const char *label,
		      const char *help)
{
	size_t order[REFUSAL_SLOTS], n = 0;

	put_head(b, name, "counter", help);
	for (size_t i = 0; i < t->size && n < REFUSAL_SLOTS; i++) {
		if (atomic_load_explicit(&t->slots[i].state, memory_order_acquire) != SLOT_READY)
			continue;
		size_t j = n++;
		while (j > 0 && strcmp(t->slots[order[j - 1]].name, t->slots[i].name) > 0) {
			order[j] = order[j - 1];
			j--;
		}
		order[j] = i;
	}
	for (size_t k = 0; k < n; k++) {
		const char *rule = t->slots[order[k]].name;
		uint64_t v = rd(&t->slots[order[k]].count);
		while (k + 1 < n && strcmp(t->slots[order[k + 1]].name, rule) == 0)
			v += rd(&t->slots[order[++k]].count);
		put(b, "%s{%s=\"", name, label);
		put_label(b, rule);
		put(b, "\"} %llu\n", (unsigned long long)v);
	}
	if (rd(&t->other) > 0)
		put(b, "%s{%s=\"other\"} %llu\n", name, label, (unsigned long long)rd(&t->other));
}

/* The shared store (store.h), when one is installed (a single moat's
 * exposition is unchanged): whether it answers, the replicas it counted,
 * and its counters. */
static void put_store(struct mbuf *b)
{
	struct store_counters c;
	static const struct {
		const char *name, *help;
		size_t off;
	} rows[] = {
		{"moat_store_fallbacks_total",
		 "Limit takes served by this replica's own buckets while the store was down.",
		 offsetof(struct store_counters, fallbacks)},
		{"moat_store_refusals_total", "Calls refused because the store was down.",
		 offsetof(struct store_counters, refusals)},
		{"moat_store_errors_total", "Store operations that got no answer in time.",
		 offsetof(struct store_counters, errors)},
		{"moat_store_cache_hits_total", "Shared response cache hits.",
		 offsetof(struct store_counters, cache_hits)},
		{"moat_store_cache_misses_total", "Shared response cache misses.",
		 offsetof(struct store_counters, cache_misses)},
	};

	if (!store_active())
		return;
	put_head(b, "moat_store_up", "gauge",
		 "1 when the shared store (cluster.redis) answers, else 0.");
	put(b, "moat_store_up %d\n", store_ready() ? 1 : 0);
	put_head(b, "moat_store_replicas", "gauge", "Live replicas the shared store last counted.");
	put(b, "moat_store_replicas %u\n", store_replicas());
	store_counters_get(&c);
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		uint64_t v;
		memcpy(&v, (const char *)&c + rows[i].off, sizeof(v));
		put_head(b, rows[i].name, "counter", rows[i].help);
		put(b, "%s %llu\n", rows[i].name, (unsigned long long)v);
	}
}

char *metrics_render(struct metrics *m, size_t *len)
{
	struct mbuf b = {.cap = 4096};

	if (!m || !(b.data = malloc(b.cap)))
		return NULL;
	b.data[0] = '\0';
	put_tools(&b, m);
	put_resources(&b, m);
	put_rules(&b, &m->refusals, "moat_refusals_total", "rule",
		  "Requests refused, by the id of the rule that refused them.");
	put_rules(&b, &m->auth, "moat_auth_failures_total", "reason",
		  "Credentials refused, by reason.");
	put_rules(&b, &m->rate, "moat_rate_limited_total", "rule",
		  "Requests refused by a rate or size limit of the listener, by rule.");
	put_head(&b, "moat_sessions_open", "gauge", "Sessions open now.");
	put(&b, "moat_sessions_open %lld\n",
	    (long long)atomic_load_explicit(&m->sessions, memory_order_relaxed));
	put_store(&b);
	put_head(&b, "process_start_time_seconds", "gauge",
		 "Start time of the process since the Unix epoch in seconds.");
	put(&b, "process_start_time_seconds %lld.%03ld\n", (long long)m->started.tv_sec,
	    m->started.tv_nsec / 1000000);
	if (b.failed) {
		free(b.data);
		return NULL;
	}
	if (len)
		*len = b.len;
	return b.data;
}
