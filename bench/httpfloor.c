/*
 * httpfloor.c - the floor for the http benchmark: the same GET that a
 * declared API tool makes, sent straight to the upstream with libcurl (one
 * handle per thread, kept alive, as moat keeps its handles), so a tool
 * call's cost can be read against a raw HTTP round trip.
 *
 *   httpfloor URL SECONDS THREADS LABEL
 *
 * Runs THREADS threads, each sending requests back to back for SECONDS
 * (after 0.5 s of warm-up), and prints one JSON line: requests per second
 * over all threads and the p50/p99 latency of one request.
 * Build: cc -O2 -std=c17 -D_GNU_SOURCE bench/httpfloor.c -lcurl -lpthread -o httpfloor
 */
#include <curl/curl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_THREADS 64
#define MAX_SAMPLES (1 << 22)

struct worker {
	pthread_t thread;
	const char *url;
	double seconds;
	double *lat_us; /* owned */
	size_t n;
	unsigned long errors;
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static size_t discard(char *p, size_t size, size_t nmemb, void *u)
{
	(void)p;
	(void)u;
	return size * nmemb;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static void *run(void *arg)
{
	struct worker *w = arg;
	CURL *h = curl_easy_init();
	uint64_t warm, end;

	if (!h)
		return NULL;
	curl_easy_setopt(h, CURLOPT_URL, w->url);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_PROXY, "");
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, NULL);
	warm = now_ns() + 500000000u;
	while (now_ns() < warm)
		if (curl_easy_perform(h) != CURLE_OK)
			w->errors++;
	end = now_ns() + (uint64_t)(w->seconds * 1e9);
	while (now_ns() < end && w->n < MAX_SAMPLES) {
		uint64_t t0 = now_ns();
		if (curl_easy_perform(h) != CURLE_OK) {
			w->errors++;
			continue;
		}
		w->lat_us[w->n++] = (double)(now_ns() - t0) / 1e3;
	}
	curl_easy_cleanup(h);
	return NULL;
}

int main(int argc, char **argv)
{
	struct worker ws[MAX_THREADS];
	double *all, secs;
	size_t total = 0;
	unsigned long errors = 0;
	int threads;

	if (argc != 5) {
		fprintf(stderr, "usage: httpfloor URL SECONDS THREADS LABEL\n");
		return 2;
	}
	secs = atof(argv[2]);
	threads = atoi(argv[3]);
	if (threads < 1 || threads > MAX_THREADS || secs <= 0) {
		fprintf(stderr, "httpfloor: bad SECONDS or THREADS\n");
		return 2;
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);
	for (int i = 0; i < threads; i++) {
		ws[i] = (struct worker){.url = argv[1], .seconds = secs,
					.lat_us = malloc(MAX_SAMPLES * sizeof(double))};
		if (!ws[i].lat_us || pthread_create(&ws[i].thread, NULL, run, &ws[i]) != 0) {
			fprintf(stderr, "httpfloor: cannot start a thread\n");
			return 1;
		}
	}
	for (int i = 0; i < threads; i++) {
		pthread_join(ws[i].thread, NULL);
		total += ws[i].n;
		errors += ws[i].errors;
	}
	all = malloc((total ? total : 1) * sizeof(double));
	if (!all)
		return 1;
	for (int i = 0, k = 0; i < threads; i++) {
		memcpy(all + k, ws[i].lat_us, ws[i].n * sizeof(double));
		k += (int)ws[i].n;
		free(ws[i].lat_us);
	}
	qsort(all, total, sizeof(double), cmp_double);
	printf("{\"label\":\"%s\",\"metric\":\"http_get\",\"mode\":\"%s\",\"threads\":%d,"
	       "\"per_second\":%.1f,\"p50_us\":%.1f,\"p99_us\":%.1f,\"errors\":%lu,\"ok\":%s}\n",
	       argv[4], threads == 1 ? "sequential" : "concurrent", threads, (double)total / secs,
	       total ? all[total / 2] : 0.0, total ? all[total * 99 / 100] : 0.0, errors,
	       total > 0 ? "true" : "false");
	fprintf(stderr, "[%s] raw GET, %d thread%s: %.0f req/s, p50 %.1f us, p99 %.1f us, %lu errors\n",
		argv[4], threads, threads == 1 ? "" : "s", (double)total / secs,
		total ? all[total / 2] : 0.0, total ? all[total * 99 / 100] : 0.0, errors);
	free(all);
	curl_global_cleanup();
	return total > 0 ? 0 : 1;
}
