/*
 * http_ops.c - the operations endpoints: GET /healthz (no authentication;
 * says only that the process answers: liveness), GET /readyz (no
 * authentication; whether this replica should be sent traffic: not while
 * it drains after SIGTERM, nor while the shared store it depends on does
 * not answer), GET /metrics (Prometheus text, to a principal allowed
 * metrics, or to anyone on the separate listen.metrics address) and the
 * RFC 9728 protected resource metadata.
 */
#include "httpd_int.h"

#include <stdlib.h>
#include <string.h>

#include "metrics.h"
#include "store.h"

static const char health[] = "{\"status\":\"ok\"}";
static const char ready[] = "{\"status\":\"ready\"}";
static const char draining[] = "{\"status\":\"draining\"}";
static const char store_down[] = "{\"status\":\"store_unavailable\"}";

static bool is_get(const char *method)
{
	return strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
}

static enum MHD_Result metrics_page(struct httpd_req *r)
{
	size_t len = 0;
	char *text = r->l->metrics ? metrics_render(r->l->metrics, &len) : NULL;
	enum MHD_Result ret;

	if (!text)
		return httpd_refuse(r, MHD_HTTP_SERVICE_UNAVAILABLE, -32000, "http.metrics_unavailable",
				    "metrics are not available", 0);
	ret = httpd_reply(r, MHD_HTTP_OK, "text/plain; version=0.0.4; charset=utf-8", text, len,
			  NULL, NULL);
	free(text);
	return ret;
}

/* 200 ready, or 503 with the reason and a Retry-After. Not a refusal of
 * the client (no audit record, no security counter): a probe asking. */
static enum MHD_Result readyz(struct httpd_req *r)
{
	if (atomic_load(&r->l->draining))
		return httpd_reply(r, MHD_HTTP_SERVICE_UNAVAILABLE, "application/json", draining,
				   sizeof(draining) - 1, "Retry-After", "5");
	if (!store_ready())
		return httpd_reply(r, MHD_HTTP_SERVICE_UNAVAILABLE, "application/json", store_down,
				   sizeof(store_down) - 1, "Retry-After", "2");
	return httpd_reply(r, MHD_HTTP_OK, "application/json", ready, sizeof(ready) - 1, NULL,
			   NULL);
}

bool httpd_ops_probe(const char *url)
{
	return strcmp(url, "/healthz") == 0 || strcmp(url, "/readyz") == 0;
}

bool httpd_ops_route(struct httpd_req *r, const char *url, const char *method,
		     enum MHD_Result *ret)
{
	struct httpd_listener *l = r->l;

	if (strcmp(url, "/healthz") == 0) {
		*ret = is_get(method) ? httpd_reply(r, MHD_HTTP_OK, "application/json", health,
						    sizeof(health) - 1, NULL, NULL)
				      : httpd_refuse_with(r, MHD_HTTP_METHOD_NOT_ALLOWED, -32600,
							  "http.method", "GET /healthz", "Allow",
							  "GET, HEAD");
		return true;
	}
	if (strcmp(url, "/readyz") == 0) {
		*ret = is_get(method) ? readyz(r)
				      : httpd_refuse_with(r, MHD_HTTP_METHOD_NOT_ALLOWED, -32600,
							  "http.method", "GET /readyz", "Allow",
							  "GET, HEAD");
		return true;
	}
	if (strcmp(url, "/metrics") == 0) {
		if (!is_get(method)) {
			*ret = httpd_refuse_with(r, MHD_HTTP_METHOD_NOT_ALLOWED, -32600, "http.method",
						 "GET /metrics", "Allow", "GET, HEAD");
			return true;
		}
		if (r->metrics_only) {
			*ret = metrics_page(r);
			return true;
		}
		if (!httpd_authenticate(r, ret))
			return true;
		*ret = r->who.metrics ? metrics_page(r)
				      : httpd_refuse(r, MHD_HTTP_FORBIDDEN, -32001,
						     "http.metrics_forbidden",
						     "this principal may not read metrics", 0);
		return true;
	}
	if (r->metrics_only)
		return false;
	if (strcmp(url, "/.well-known/oauth-protected-resource") == 0 ||
	    strcmp(url, "/.well-known/oauth-protected-resource/mcp") == 0) {
		const char *doc = l->auth.resource_metadata ? l->auth.resource_metadata(l->auth.ctx)
							    : NULL;
		if (!doc)
			*ret = httpd_refuse(r, MHD_HTTP_NOT_FOUND, -32600, "http.not_found",
					    "no authorization is configured", 0);
		else
			*ret = httpd_reply(r, MHD_HTTP_OK, "application/json", doc, strlen(doc), NULL,
					   NULL);
		return true;
	}
	return false;
}
