/*
 * httpd_int.h - what the files of the HTTP transport share: the listener,
 * a request (which is also the route the server answers on), a session.
 * Not a public interface: only src/transport/http/ includes it.
 *
 * Threads. libmicrohttpd runs one internal thread (epoll) that calls the
 * access handler, the content readers of SSE responses and the completion
 * callback; tool calls answer from the server's worker threads through
 * httpd_session_send(); a housekeeping thread expires and reaps sessions
 * and keeps SSE streams alive. Lock order: the session table, then a
 * session, then a request; never the other way.
 *
 * Lifetimes are reference counts. A request is held by its connection
 * (until MHD's completion callback), by an SSE response (until MHD frees
 * it) and, while a message it carried awaits its final answer, by the
 * server (the route; dropped when the final message is sent). A session is
 * held by the table and by every request that names it.
 */
#ifndef MOAT_TRANSPORT_HTTPD_INT_H
#define MOAT_TRANSPORT_HTTPD_INT_H

#include <microhttpd.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "audit.h"
#include "config.h"
#include "http_auth_hook.h"
#include "http_config.h"
#include "principal.h"
#include "registry.h"
#include "server.h"

#define HTTPD_SID_BYTES 24                     /* 192 random bits */
#define HTTPD_SID_LEN (2 * HTTPD_SID_BYTES)    /* as hex */
#define HTTPD_TOKEN_MAX 1024                   /* a sealed Mcp-Session-Id, characters */
#define HTTPD_PENDING_ENDS 256                 /* ended sessions the store has yet to learn of */
#define HTTPD_END_CHECK_MS 1000                /* how often a session asks whether it was DELETEd elsewhere */
#define HTTPD_MAX_STREAMS 64                   /* hard cap on GET streams a session */
#define HTTPD_RING_EVENTS 64                   /* session events kept for Last-Event-ID */
#define HTTPD_RING_BYTES (1u << 20)
#define HTTPD_STREAM_MAX_BUFFER (4u << 20)     /* unread SSE bytes before we give up */
#define HTTPD_KEEPALIVE_S 15                   /* an SSE comment on idle streams */
#define HTTPD_CANCEL_MS 800
#define HTTPD_MAX_PARAM_HEADERS 32             /* Mcp-Param-* headers a request may carry */
#define HTTPD_SSE_RETRY_MS 1000                /* the retry: a POST stream's priming event asks */

struct httpd_session;
struct httpd_ratelimit;
struct metrics;
struct pool;

#define HTTPD_LINGER_MAX 64

struct httpd_linger {
	int fd;            /* a duplicate of a refused connection's socket */
	uint64_t until_ns; /* give up then */
	size_t drained;
};

struct httpd_listener {
	struct httpd_config cfg;
	const struct moat_config *mcfg; /* borrowed */
	struct registry *reg;           /* borrowed */
	struct server_opts sopts;       /* for every session's server */
	struct httpd_auth_hook auth;
	struct audit *audit;            /* borrowed; may be NULL */
	struct metrics *metrics;        /* borrowed; may be NULL */
	bool tls;
	int listen_fd, metrics_fd;      /* -1: none; MHD owns them once started */
	uint16_t port, metrics_port;    /* as bound */
	char base[HTTPD_ADDR_MAX + 16]; /* "https://127.0.0.1:8765" */
	char url[HTTPD_ADDR_MAX + 20];  /* base + "/mcp" */
	char *cert_pem, *key_pem;       /* read before the sandbox; wiped at the end */
	struct MHD_Daemon *d, *md;
	struct pool *pool;
	struct token_bucket global_bucket;
	struct httpd_ratelimit *rl;

	/* The session table (http_session.c). */
	pthread_mutex_t tlock;
	struct httpd_session **buckets; /* HTTPD_TABLE_SIZE chains, by internal id */
	struct httpd_session **tbuckets; /* the same sessions by the sealed id they were
					    reached with (the lookup that need not open it) */
	uint32_t nsessions;
	struct httpd_session *grave;    /* removed, waiting to be reaped */
	/* Sessions ended (DELETE, idle) while the shared store was down:
	 * the housekeeper tells the store once it answers; meanwhile none
	 * of them is adopted here (http_session_adopt.c). Under tlock. */
	struct {
		char id[HTTPD_SID_LEN + 1];
		uint64_t exp; /* the sealed id's expiry, seconds since the epoch */
		bool deleted; /* by DELETE (mark "session"), else idle ("session_idle") */
	} pending_end[HTTPD_PENDING_ENDS];
	unsigned npending_end;
	bool stopping;                  /* refuse new requests and sessions */
	atomic_bool draining;           /* SIGTERM came: /readyz answers 503 */
	atomic_bool stuck;              /* a call would not stop: never free, _exit */

	/* Every request with a connection, for shutdown (resume them all). */
	pthread_mutex_t rlock;
	struct httpd_req *reqs;
	uint32_t nreqs;

	/* Connections refused before their body was read (http_linger.c). */
	pthread_mutex_t linger_lock;
	struct httpd_linger linger[HTTPD_LINGER_MAX];
	unsigned nlinger;

	/* Requests without a session (2026-07-28): one server for them
	 * all, remembering nothing between requests (http_stateless.c). */
	struct server *ssrv;
	unsigned s_handling;            /* threads inside it (rlock) */
	bool s_closing;                 /* it is being shut down: none may enter (rlock) */

	pthread_t hk;                   /* housekeeping */
	bool hk_started;
	int hk_wake;                    /* eventfd */
};

enum httpd_req_kind { REQ_OTHER, REQ_POST, REQ_GET_STREAM, REQ_DELETE };
enum httpd_req_state { RS_NEW, RS_READING, RS_WAITING, RS_DONE };

struct httpd_req {
	pthread_mutex_t lock;
	int refs;
	struct httpd_listener *l;
	struct MHD_Connection *conn; /* NULL once MHD completed the request */
	enum httpd_req_kind kind;
	enum httpd_req_state state;
	bool metrics_only;           /* came in on the metrics listener */
	struct httpd_session *sess;  /* held; may be NULL */
	struct principal who;
	char origin_ok[256];         /* the allowed Origin to echo, or "" */
	uint64_t start_ns;

	char *body; /* owned, bounded by cfg.max_body_bytes */
	size_t body_len, body_cap;
	bool init;  /* an initialize that creates sess */
	bool too_large; /* the body passed max_body_bytes: the rest is dropped, 413 */
	int fd;     /* the connection's socket (to notice a client gone), -1 */

	/* What the request's MCP headers say (http_stateless.c); the strings
	 * live in hbuf. */
	struct req_headers hdr;
	struct req_param_header params[HTTPD_MAX_PARAM_HEADERS];
	char *hbuf;
	bool stateless;   /* no session: served by the listener's ssrv */
	bool era_status;  /* the final's HTTP status is server_http_status's */
	bool listen;      /* a subscriptions/listen POST (bounded per principal) */
	unsigned status;  /* of the JSON answer; 0: 200 */

	/* The route (guarded by lock). */
	bool route_live;   /* the server holds r: its final has not come */
	bool client_gone;  /* the client went away before the final */
	bool route_closed; /* server_route_closed was called for it */

	/* SSE polling (a session POST, 2025-11-25 and later): its stream's
	 * events carry ids from the session's sequence and go to the ring
	 * tagged stream_no, so a client may resume it with GET and
	 * Last-Event-ID; detached once the server closed the stream mid-call
	 * (the rest goes to the ring and a resuming GET). */
	uint64_t stream_no;
	uint64_t prime_seq; /* the priming event's id; 0: no priming */
	bool detached;
	uint64_t resume_tag; /* a GET resuming POST stream resume_tag; 0: none */

	/* Output (guarded by lock). */
	bool suspended; /* its connection waits for output */
	bool answered;  /* POST: the final message came; GET: the stream ends */
	bool aborted;   /* shutdown: answer 503 if nothing came */
	bool sse;       /* an SSE response is queued */
	unsigned nmsgs;
	char *json;     /* the final message, for an application/json answer */
	size_t json_len;
	char *out;      /* SSE bytes not yet read by MHD */
	size_t out_len, out_off, out_cap;

	struct httpd_req *prev, *next; /* the listener's list (rlock) */
};

struct httpd_ring_ev {
	uint64_t seq;
	uint64_t tag; /* 0: the session's stream; else a POST's stream_no */
	bool final;   /* the final message of POST stream tag */
	char *data; /* formatted SSE event with its id; owned */
	size_t len;
};

struct httpd_session {
	char id[HTTPD_SID_LEN + 1]; /* internal, the table's key; never sent */
	char *token;           /* the sealed Mcp-Session-Id given at initialize, or the one
				  it was adopted with (owned; set once, before tlinked) */
	bool tlinked;          /* in the listener's tbuckets (tlock) */
	struct httpd_session *tnext; /* tbuckets chain (tlock) */
	uint64_t exp_s;        /* when the sealed id expires (seconds since the epoch); 0: not yet sealed */
	uint64_t checked_ns;   /* the store last said no replica DELETEd it (tlock) */
	char owner[PRINCIPAL_NAME_MAX];
	struct httpd_listener *l;
	struct server *srv;
	pthread_mutex_t lock;
	int refs;
	bool ready;            /* initialize answered with a result */
	bool dead;             /* removed from the table */
	bool used;             /* served a request besides its initialize (lock) */
	unsigned handling;     /* threads inside server_handle_from */
	unsigned active;       /* POSTs awaiting an answer and open GET streams */
	uint64_t last_ns;      /* last activity */
	char version[32];      /* negotiated protocol version */
	struct httpd_req *streams[HTTPD_MAX_STREAMS];
	unsigned nstreams;
	struct httpd_ring_ev ring[HTTPD_RING_EVENTS];
	unsigned ring_start, ring_n;
	size_t ring_bytes;
	uint64_t next_seq;     /* the id of the next session event */
	uint64_t delivered;    /* events up to this seq went to a stream */
	uint64_t next_stream;  /* the last POST stream_no given */
	struct httpd_session *next; /* hash chain, then the graveyard */
};

/* ---- http_request.c: checks and responses ---- */

/* httpd_header - the single value of header name, NULL when absent; *dup
 * set when the request carries it more than once. Borrowed from MHD. */
const char *httpd_header(struct MHD_Connection *c, const char *name, bool *dup);

/* httpd_host_allowed / httpd_origin_allowed - the allowlists of l. */
bool httpd_host_allowed(const struct httpd_listener *l, const char *host);
bool httpd_origin_allowed(const struct httpd_listener *l, const char *origin);

/* httpd_media_listed - true when the Accept-style list has type (exact
 * media type, parameters ignored, case-insensitive). */
bool httpd_media_listed(const char *list, const char *type);

/* httpd_add_headers - the security headers every response carries, and
 * the CORS headers when r allowed an Origin (r may be NULL). */
void httpd_add_headers(const struct httpd_listener *l, const struct httpd_req *r,
		       struct MHD_Response *resp);

/* httpd_reply - queue a whole response (body copied; may be NULL) with
 * the common headers. extra_name/extra_value: one more header or NULL. */
enum MHD_Result httpd_reply(struct httpd_req *r, unsigned status, const char *ctype,
			    const char *body, size_t len, const char *extra_name,
			    const char *extra_value);

/* httpd_reply_close - httpd_reply, closing the connection after it when
 * close is true. */
enum MHD_Result httpd_reply_close(struct httpd_req *r, unsigned status, const char *ctype,
				  const char *body, size_t len, const char *extra_name,
				  const char *extra_value, bool close);

/* httpd_refuse - a refusal (the connection closes after it): a JSON-RPC error body naming the rule
 * (id null), the status, a security event in the audit trail and the
 * metrics. retry_after > 0 adds Retry-After. */
enum MHD_Result httpd_refuse(struct httpd_req *r, unsigned status, int code, const char *rule,
			     const char *msg, unsigned retry_after);

/* httpd_refuse_with - httpd_refuse with one more header (hname NULL:
 * none) instead of Retry-After. */
enum MHD_Result httpd_refuse_with(struct httpd_req *r, unsigned status, int code,
				  const char *rule, const char *msg, const char *hname,
				  const char *hvalue);

/* httpd_security_event - audit and count a refusal on r. */
void httpd_security_event(struct httpd_req *r, const char *rule, const char *outcome);

/* ---- http_session.c ---- */

/* httpd_sessions_init / fini - the table of l. */
bool httpd_sessions_init(struct httpd_listener *l);
void httpd_sessions_fini(struct httpd_listener *l);

/* httpd_session_find - the live, initialized session that the sealed id
 * token names for who, held for the caller (httpd_session_put); when it
 * is not in this replica's table, adopted (http_session_adopt.c). NULL
 * with *rule set otherwise: "http.session_unknown" (unknown, ended,
 * expired, not yet initialized, tampered, another principal's: all
 * alike), "http.session_store_unavailable" (the store cannot say whether
 * another replica ended it), or a limit of httpd_session_create. */
struct httpd_session *httpd_session_find(struct httpd_listener *l, const char *token,
					 const struct principal *who, const char **rule);

/* httpd_session_by_token - the live, ready session owned by owner that
 * this replica issued token to or adopted with it (the exact text), held
 * for the caller, unexpired; or NULL, *known telling whether the text was
 * known at all (then it names nothing for owner now). */
struct httpd_session *httpd_session_by_token(struct httpd_listener *l, const char *token,
					     const char *owner, bool *known);

/* httpd_session_lookup - the live, ready session of internal id owned by
 * owner, held for the caller, or NULL. */
struct httpd_session *httpd_session_lookup(struct httpd_listener *l, const char *id,
					   const char *owner);

/* httpd_session_create - a new session owned by who, in the table but not
 * ready until its initialize succeeds; held for the caller. NULL with rule
 * set ("limits.http_sessions", "limits.http_sessions_per_principal",
 * "http.shutting_down", or NULL for ENOMEM). */
struct httpd_session *httpd_session_create(struct httpd_listener *l,
					   const struct principal *who, const char **rule);

/* What a sealed session id says (http_session_seal.c). */
struct httpd_sid_facts {
	char id[HTTPD_SID_LEN + 1]; /* the internal id */
	char version[32];           /* the negotiated revision */
	json_t *caps;               /* the client's capabilities (owned) */
	char name[72], cversion[72]; /* clientInfo, cut to 64 bytes */
	uint64_t exp;               /* expiry, seconds since the epoch */
};

/* httpd_sid_seal - the Mcp-Session-Id of internal id for owner: sealed
 * with what srv (initialized) knows of its client, living lifetime_s from
 * now_s (0: now); *exp (may be NULL) its expiry. A new string of visible
 * ASCII, at most HTTPD_TOKEN_MAX characters (the caller frees it), or
 * NULL (ENOMEM, srv not initialized). Thread-safe. */
char *httpd_sid_seal(const char *id, const char *owner, struct server *srv, uint32_t lifetime_s,
		     uint64_t now_s, uint64_t *exp);

/* httpd_sid_open - open token for owner at now_s (0: now): true with f
 * filled (release with httpd_sid_facts_clear); false, f empty, when it is
 * malformed, tampered, sealed under another key, expired, another
 * principal's, or not a session id. Nothing is logged. Thread-safe. */
bool httpd_sid_open(const char *token, const char *owner, uint64_t now_s,
		    struct httpd_sid_facts *f);
void httpd_sid_facts_clear(struct httpd_sid_facts *f);

/* ---- http_session_adopt.c: sessions across replicas ---- */

/* httpd_session_adopt - the session f names (opened from token, copied),
 * opened on another replica, made local: only with a shared store
 * installed and only when the store says it has not ended (STORE_DOWN:
 * NULL, rule "http.session_store_unavailable"). Its server starts
 * initialized as f says (server_adopt). Held for the caller; NULL with
 * *rule set. */
struct httpd_session *httpd_session_adopt(struct httpd_listener *l, const struct principal *who,
					  const char *token, const struct httpd_sid_facts *f,
					  const char **rule);

/* httpd_session_new - a session owned by who with internal id (NULL: a
 * fresh random one), its server made, not in the table; held once for
 * the caller. NULL on ENOMEM. httpd_session_insert - put it in the table
 * under the limits (rule set and s released on refusal; NULL). When id is
 * already there (two requests adopting one session at once) the one in
 * the table is returned, held, and s released. */
struct httpd_session *httpd_session_new(struct httpd_listener *l, const struct principal *who,
					const char *id);
struct httpd_session *httpd_session_insert(struct httpd_listener *l, struct httpd_session *s,
					   const char **rule);

/* httpd_session_end_shared - s ended by DELETE (deleted) or idle expiry:
 * tell the shared store (when one is installed), so no replica adopts it
 * again and, after a DELETE, every replica holding a copy ends it within
 * HTTPD_END_CHECK_MS; kept and retried by the housekeeper while the store
 * is down. */
void httpd_session_end_shared(struct httpd_listener *l, const struct httpd_session *s,
			      bool deleted);

/* httpd_session_deleted_elsewhere - with a store, at most once every
 * HTTPD_END_CHECK_MS per session: whether a DELETE on another replica
 * ended s (then s is killed here). False without a store, between checks
 * and while the store is down (the copy here serves on). MHD thread. */
bool httpd_session_deleted_elsewhere(struct httpd_listener *l, struct httpd_session *s);

/* httpd_session_ended_here - id's end awaits the store (under no lock). */
bool httpd_session_ended_here(struct httpd_listener *l, const char *id);

/* httpd_sessions_retry_ends - the housekeeper's retry of pending ends. */
void httpd_sessions_retry_ends(struct httpd_listener *l);

/* httpd_session_hold / put - reference counting. */
void httpd_session_hold(struct httpd_session *s);
void httpd_session_put(struct httpd_session *s);

/* httpd_session_kill - take s out of the table, end its streams and hand
 * it to the housekeeper to shut its server down. Idempotent. */
void httpd_session_kill(struct httpd_session *s);

/* httpd_session_dispatch - hand r's body to the session's server on route
 * r; exactly one final message comes on r (perhaps before this returns;
 * empty when the message needs no answer). -1 when the session has
 * ended, else 0. */
int httpd_session_dispatch(struct httpd_session *s, struct httpd_req *r);

/* httpd_session_enter / leave - count the caller as a thread inside the
 * session's server (the reaper waits for none before shutting it down);
 * enter is false when the session has ended. */
bool httpd_session_enter(struct httpd_session *s);
void httpd_session_leave(struct httpd_session *s);

/* httpd_session_attach_stream - make r (a GET) a stream of s and queue
 * the ring's events after last_event_id (NULL: those not yet delivered).
 * -1 when s has ended or has max_sse_streams_per_session streams. */
int httpd_session_attach_stream(struct httpd_session *s, struct httpd_req *r,
				const char *last_event_id);

/* httpd_session_detach_stream - r's connection ended. */
void httpd_session_detach_stream(struct httpd_session *s, struct httpd_req *r);

/* httpd_session_ring_event - keep the preformatted event ev (copied) as
 * seq of POST stream tag in s's ring. */
void httpd_session_ring_event(struct httpd_session *s, uint64_t seq, uint64_t tag, const char *ev,
			      size_t len);

/* httpd_session_touch - r ended: note activity. */
void httpd_session_touch(struct httpd_session *s);

/* httpd_housekeep - one pass of the housekeeper: expire idle sessions,
 * keep streams alive (keepalive true), reap the dead. */
void httpd_housekeep(struct httpd_listener *l, bool keepalive);

/* httpd_sessions_end_all - kill every session (shutdown). */
void httpd_sessions_end_all(struct httpd_listener *l);

/* httpd_sessions_wait_idle - wait up to ms for every call of every
 * session to end. Only once the housekeeper has stopped (it frees the
 * servers of ended sessions). */
void httpd_sessions_wait_idle(struct httpd_listener *l, uint32_t ms);

/* ---- http_sse.c ---- */

/* httpd_req_hold / put. */
void httpd_req_hold(struct httpd_req *r);
void httpd_req_put(struct httpd_req *r);

/* httpd_req_deliver - a message for r (a POST's route); final ends it,
 * and a final with len 0 carries no message (nothing to answer). id: its
 * SSE event id (0: none). A final's HTTP status is the core's when
 * r->era_status. Called with no lock held. Thread-safe. */
void httpd_req_deliver(struct httpd_req *r, const char *buf, size_t len, bool final, uint64_t id);

/* httpd_req_detach - the server closes r's stream mid-call (SSE polling):
 * its answer becomes an event stream that ends after the priming event
 * and what came so far; the rest waits in the session's ring for a GET
 * with Last-Event-ID. Only for a stream with ids (r->prime_seq). */
void httpd_req_detach(struct httpd_req *r);

/* httpd_req_push_raw - append preformatted SSE bytes (an event with its id
 * from the session ring, a keepalive comment) to a GET stream. */
void httpd_req_push_raw(struct httpd_req *r, const char *bytes, size_t len);

/* httpd_req_end - end r's stream (or abort a waiting POST) and wake it. */
void httpd_req_end(struct httpd_req *r, bool abort);

/* httpd_respond_post - on the MHD thread, after dispatch or a resume:
 * queue the JSON or SSE answer, or suspend until one comes. */
enum MHD_Result httpd_respond_post(struct httpd_req *r);

/* httpd_open_stream - on the MHD thread: queue the SSE response of a GET
 * stream for r (already attached to its session). */
enum MHD_Result httpd_open_stream(struct httpd_req *r);

/* httpd_sse_format - "event: message\ndata: ...\n\n" (with "id: N\n"
 * first when id is non-zero) into a new buffer the caller frees. */
char *httpd_sse_format(uint64_t id, const char *buf, size_t len, size_t *out_len);

/* ---- http_stateless.c: MCP headers, requests without a session ---- */

/* httpd_collect_headers - read MCP-Protocol-Version, Mcp-Method, Mcp-Name
 * and every Mcp-Param-* header of r (trimmed of OWS) into r->hdr. false
 * with *rule set when one is sent twice or there are too many. MHD
 * thread. */
bool httpd_collect_headers(struct httpd_req *r, const char **rule);

/* httpd_body_kind - what a POST body without a session asks: 1 an
 * initialize of the session era (opens a session), 0 anything else
 * (served statelessly); *method set to a copy of its method, or "" (at
 * most n bytes). */
int httpd_body_kind(const char *body, size_t len, char *method, size_t n);

/* httpd_body_names_stateless - whether a session POST's body is served
 * under 2026-07-28 (its _meta names a revision, or server/discover), so
 * its answer's HTTP status is the core's. */
bool httpd_body_names_stateless(const char *body, size_t len);

/* httpd_stateless_init / fini - the listener's server for requests
 * without a session. fini waits up to ms for its calls and frees it;
 * false when a call would not stop. */
bool httpd_stateless_init(struct httpd_listener *l);
bool httpd_stateless_fini(struct httpd_listener *l, uint32_t ms);

/* httpd_stateless_dispatch - hand r to the stateless server: exactly one
 * final comes on r. -1 when the listener stops or r's principal has
 * max_sse_streams_per_session listen streams open (*rule set). */
int httpd_stateless_dispatch(struct httpd_req *r, const char **rule);

/* httpd_route_gone - r's client went away (MHD ended the request with
 * an error, or the socket was found closed): if its final has not come,
 * tell its server (server_route_closed), once. Any thread, no lock. */
void httpd_route_gone(struct httpd_req *r);

/* httpd_reqs_check_gone - find requests suspended while their client
 * closed the connection and end them (housekeeper, about once a second). */
void httpd_reqs_check_gone(struct httpd_listener *l);

/* ---- http_tls.c ---- */

/* httpd_tls_load - read c's cert and key PEM files (each at most 1 MiB)
 * into new strings (*cert, *key: caller frees with httpd_pem_free, also on
 * failure) and check that GnuTLS takes them as a pair. cfgname starts
 * every message. Start-up only. */
enum moat_rc httpd_tls_load(const char *cfgname, const struct httpd_config *c, char **cert,
			    char **key, struct moat_err *err);

/* httpd_pem_free - wipe and free. Accepts NULL. */
void httpd_pem_free(char *pem);

/* ---- http_linger.c ---- */

struct pollfd;

/* httpd_linger_add - keep c's socket open after MHD closes it, draining
 * what the client still sends (a refusal before the body). MHD thread. */
void httpd_linger_add(struct httpd_listener *l, struct MHD_Connection *c);

/* httpd_linger_fds - the lingering sockets into p (at most max); returns
 * how many. httpd_linger_drain - read and discard, close the finished
 * ones. httpd_linger_fini - close them all. Thread-safe. */
int httpd_linger_fds(struct httpd_listener *l, struct pollfd *p, unsigned max);
void httpd_linger_drain(struct httpd_listener *l);
void httpd_linger_fini(struct httpd_listener *l);

/* ---- http_limits.c ---- */

struct httpd_ratelimit *httpd_ratelimit_new(uint32_t per_second);
void httpd_ratelimit_free(struct httpd_ratelimit *rl);
/* httpd_ratelimit_take - a token for addr (the client's IP, no port);
 * 0 when taken, else the seconds to wait. Thread-safe. */
unsigned httpd_ratelimit_take(struct httpd_ratelimit *rl, const char *addr);

/* ---- http_mcp.c: the /mcp endpoint ---- */

enum MHD_Result httpd_mcp_begin(struct httpd_req *r, const char *method);
enum MHD_Result httpd_mcp_body(struct httpd_req *r, const char *data, size_t *size);
enum MHD_Result httpd_mcp_end(struct httpd_req *r);

/* ---- http_ops.c: /healthz, /readyz, /metrics, the RFC 9728 metadata ---- */

/* httpd_ops_probe - url is /healthz or /readyz: answered without the
 * Host and Origin allowlists or authentication, on either listener, and
 * still while the listener drains. */
bool httpd_ops_probe(const char *url);

/* httpd_ops_route - answer url when it is an operations endpoint; false
 * when it is not one (the caller goes on). */
bool httpd_ops_route(struct httpd_req *r, const char *url, const char *method,
		     enum MHD_Result *ret);

/* httpd_authenticate - run the auth hook (or the local principal) for r;
 * on refusal queues 401/403 and returns false with *ret set. */
bool httpd_authenticate(struct httpd_req *r, enum MHD_Result *ret);

#endif
