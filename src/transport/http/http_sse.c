/*
 * http_sse.c - what a request answers with, and when: a POST's single
 * JSON answer or its text/event-stream (when the call sends progress or
 * other notifications before its result), and the session's GET stream.
 *
 * The server answers on worker threads; libmicrohttpd writes on its own.
 * A request whose answer has not come yet suspends its connection (so MHD
 * neither polls nor times it out), and the worker that delivers a message
 * resumes it. An SSE response's content reader hands MHD the bytes
 * delivered so far and, when there are none, suspends the connection
 * again from inside the reader (which MHD allows) instead of returning 0
 * in a loop. Both sides decide under the request's lock, so a message
 * delivered between "nothing to send" and the suspension still wakes it.
 *
 * Bounded: a POST stream drops notifications (never the final answer)
 * once HTTPD_STREAM_MAX_BUFFER bytes wait unread; a GET stream that far
 * behind is ended (its events stay in the session's ring, so the client
 * can resume with Last-Event-ID).
 */
#include "httpd_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

void httpd_req_hold(struct httpd_req *r)
{
	pthread_mutex_lock(&r->lock);
	r->refs++;
	pthread_mutex_unlock(&r->lock);
}

void httpd_req_put(struct httpd_req *r)
{
	int left;

	if (!r)
		return;
	pthread_mutex_lock(&r->lock);
	left = --r->refs;
	pthread_mutex_unlock(&r->lock);
	if (left > 0)
		return;
	if (r->sess)
		httpd_session_put(r->sess);
	free(r->body);
	free(r->hbuf);
	free(r->json);
	free(r->out);
	pthread_mutex_destroy(&r->lock);
	free(r);
}

char *httpd_sse_format(uint64_t id, const char *buf, size_t len, size_t *out_len)
{
	/* "id: N\n" + "event: message\n" + "data: " per line + "\n\n" */
	size_t lines = 1, cap, n = 0;
	char *out;

	for (size_t i = 0; i < len; i++)
		lines += buf[i] == '\n';
	cap = 32 + 15 + len + lines * 7 + 2;
	out = malloc(cap);
	if (!out)
		return NULL;
	if (id)
		n += (size_t)snprintf(out, cap, "id: %llu\n", (unsigned long long)id);
	memcpy(out + n, "event: message\n", 15);
	n += 15;
	for (size_t i = 0; i <= len;) {
		const char *nl = memchr(buf + i, '\n', len - i);
		size_t k = nl ? (size_t)(nl - (buf + i)) : len - i;
		memcpy(out + n, "data: ", 6);
		n += 6;
		memcpy(out + n, buf + i, k);
		n += k;
		out[n++] = '\n';
		i += k + 1;
		if (!nl)
			break;
	}
	out[n++] = '\n';
	*out_len = n;
	return out;
}

/* Append bytes to r's output. Lock held. false when memory ran out. */
static bool out_append(struct httpd_req *r, const char *b, size_t n)
{
	if (r->out_off > 0 && r->out_off == r->out_len)
		r->out_off = r->out_len = 0;
	if (r->out_len + n > r->out_cap) {
		size_t ncap = r->out_cap ? r->out_cap : 4096;
		while (ncap < r->out_len + n)
			ncap *= 2;
		char *nb = realloc(r->out, ncap);
		if (!nb)
			return false;
		r->out = nb;
		r->out_cap = ncap;
	}
	memcpy(r->out + r->out_len, b, n);
	r->out_len += n;
	return true;
}

/* Resume r's connection if it waits. Lock held. MHD_resume_connection is
 * safe from any thread. */
static void wake(struct httpd_req *r)
{
	if (r->suspended && r->conn) {
		r->suspended = false;
		MHD_resume_connection(r->conn);
	}
}

void httpd_req_deliver(struct httpd_req *r, const char *buf, size_t len, bool final, uint64_t id)
{
	size_t flen = 0;
	char *ev = len ? httpd_sse_format(id, buf, len, &flen) : NULL;
	unsigned status = final && len && r->era_status ? (unsigned)server_http_status(buf, len) : 0;

	pthread_mutex_lock(&r->lock);
	if (final && len && !r->json && !r->sse && !r->detached) {
		r->json = malloc(len);
		if (r->json) {
			memcpy(r->json, buf, len);
			r->json_len = len;
		}
		r->status = status;
	}
	/* A detached stream is closed: its messages went to the ring. */
	if (ev && !r->detached && (final || r->out_len - r->out_off < HTTPD_STREAM_MAX_BUFFER))
		out_append(r, ev, flen);
	if (len)
		r->nmsgs++;
	if (final) {
		r->answered = true;
		r->route_live = false;
	}
	wake(r);
	pthread_mutex_unlock(&r->lock);
	free(ev);
}

void httpd_req_detach(struct httpd_req *r)
{
	pthread_mutex_lock(&r->lock);
	if (r->prime_seq && !r->answered && !r->detached && !r->client_gone) {
		r->detached = true;
		wake(r);
	}
	pthread_mutex_unlock(&r->lock);
}

void httpd_req_push_raw(struct httpd_req *r, const char *bytes, size_t len)
{
	pthread_mutex_lock(&r->lock);
	if (!r->answered) {
		if (r->out_len - r->out_off + len > HTTPD_STREAM_MAX_BUFFER ||
		    !out_append(r, bytes, len))
			r->answered = true; /* too far behind: end it; the ring keeps the events */
		wake(r);
	}
	pthread_mutex_unlock(&r->lock);
}

void httpd_req_end(struct httpd_req *r, bool abort)
{
	pthread_mutex_lock(&r->lock);
	if (r->kind == REQ_GET_STREAM)
		r->answered = true;
	if (abort)
		r->aborted = true;
	wake(r);
	pthread_mutex_unlock(&r->lock);
}

/* The content reader of an SSE response (MHD's thread). */
static ssize_t sse_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct httpd_req *r = cls;
	ssize_t n;

	(void)pos;
	pthread_mutex_lock(&r->lock);
	if (r->out_off < r->out_len) {
		size_t k = r->out_len - r->out_off;
		if (k > max)
			k = max;
		memcpy(buf, r->out + r->out_off, k);
		r->out_off += k;
		n = (ssize_t)k;
	} else if (r->client_gone && r->kind == REQ_POST) {
		n = MHD_CONTENT_READER_END_WITH_ERROR;
	} else if (r->answered || r->aborted || r->detached || !r->conn) {
		n = MHD_CONTENT_READER_END_OF_STREAM;
	} else {
		MHD_suspend_connection(r->conn);
		r->suspended = true;
		n = 0;
	}
	pthread_mutex_unlock(&r->lock);
	return n;
}

static void sse_free(void *cls)
{
	httpd_req_put(cls);
}

/* Put r's priming event first in its output (SEP-1699: an id to resume
 * from and how long to wait before reconnecting) and in the session's
 * ring, so a GET with that Last-Event-ID finds the stream. */
static bool prime(struct httpd_req *r)
{
	char ev[96];
	int n = snprintf(ev, sizeof(ev), "id: %llu\nretry: %u\ndata: \n\n",
			 (unsigned long long)r->prime_seq, HTTPD_SSE_RETRY_MS);
	bool ok;

	if (n < 0 || (size_t)n >= sizeof(ev))
		return false;
	httpd_session_ring_event(r->sess, r->prime_seq, r->stream_no, ev, (size_t)n);
	pthread_mutex_lock(&r->lock);
	ok = out_append(r, ev, (size_t)n);
	if (ok && r->out_len > (size_t)n) {
		/* Appended after what came before: rotate it to the front. */
		size_t old = r->out_len - (size_t)n;
		memmove(r->out + r->out_off + (size_t)n, r->out + r->out_off, old - r->out_off);
		memcpy(r->out + r->out_off, ev, (size_t)n);
	}
	pthread_mutex_unlock(&r->lock);
	return ok;
}

static enum MHD_Result queue_sse(struct httpd_req *r)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;

	if (r->kind == REQ_POST && r->prime_seq && !prime(r))
		return MHD_NO;
	httpd_req_hold(r); /* for the response */
	resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16384, sse_read, r, sse_free);
	if (!resp) {
		httpd_req_put(r);
		return MHD_NO;
	}
	httpd_add_headers(r->l, r, resp);
	MHD_add_response_header(resp, "Content-Type", "text/event-stream");
	MHD_add_response_header(resp, "X-Accel-Buffering", "no");
	if (r->init && r->sess && r->sess->ready && r->sess->token)
		MHD_add_response_header(resp, "Mcp-Session-Id", r->sess->token);
	ret = MHD_queue_response(r->conn, MHD_HTTP_OK, resp);
	MHD_destroy_response(resp);
	r->state = RS_DONE;
	return ret;
}

enum MHD_Result httpd_respond_post(struct httpd_req *r)
{
	char *json = NULL;
	size_t json_len = 0;
	enum { WAIT, NONE, ABORTED, JSON, SSE } how;
	enum MHD_Result ret;

	pthread_mutex_lock(&r->lock);
	if (r->client_gone) {
		pthread_mutex_unlock(&r->lock);
		return MHD_NO; /* nobody to answer: MHD closes the connection */
	}
	if (r->detached && !r->sse)
		how = SSE; /* the priming event, then the stream ends */
	else if (r->nmsgs == 0 && r->answered)
		how = NONE;
	else if (r->nmsgs == 0)
		how = r->aborted ? ABORTED : WAIT;
	else if (r->nmsgs == 1 && r->answered && r->json)
		how = JSON;
	else
		how = SSE;
	if (how == WAIT) {
		MHD_suspend_connection(r->conn);
		r->suspended = true;
	} else if (how == JSON) {
		json = r->json;
		json_len = r->json_len;
		r->json = NULL;
	} else if (how == SSE) {
		r->sse = true;
	}
	pthread_mutex_unlock(&r->lock);
	switch (how) {
	case WAIT:
		return MHD_YES;
	case NONE: /* notifications, responses, a cancelled call */
		return httpd_reply(r, MHD_HTTP_ACCEPTED, NULL, NULL, 0, NULL, NULL);
	case ABORTED: /* the server went away before answering */
		return httpd_refuse(r, MHD_HTTP_SERVICE_UNAVAILABLE, -32000, "http.shutting_down",
				    "the server is shutting down", 1);
	case SSE:
		return queue_sse(r);
	case JSON:
	default:
		break;
	}
	ret = httpd_reply(r, r->status ? r->status : MHD_HTTP_OK, "application/json", json, json_len,
			  r->init && r->sess && r->sess->ready && r->sess->token ? "Mcp-Session-Id"
										 : NULL,
			  r->sess ? r->sess->token : NULL);
	free(json);
	return ret;
}

enum MHD_Result httpd_open_stream(struct httpd_req *r)
{
	pthread_mutex_lock(&r->lock);
	r->sse = true;
	pthread_mutex_unlock(&r->lock);
	return queue_sse(r);
}
