/*
 * check_deploy.c - holds deploy/ to what docs/deploy.md promises: every
 * YAML file parses (src/core/yaml_json.c), the Kubernetes objects are
 * there and hardened, the config in the ConfigMap is one moat accepts
 * (moat.schema.json) and takes its secrets from the environment the
 * Deployment fills from the Secret, and no file holds anything that looks
 * like a real secret.
 *
 * usage: check_deploy [--expect ID,ID...] DIR
 *
 * Prints "ok - ID: what" or "not ok - ID: what" per check and a closing
 * "N passed, N failed". Exit 0 when nothing failed; with --expect, exit 0
 * only when exactly the listed checks failed (the test that shows each
 * check can fail, on tests/deploy/bad/).
 */
#include <dirent.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "config.h"
#include "result.h"
#include "schema.h"
#include "yaml_json.h"

#define MAX_FILES 64
#define MAX_FILE_BYTES (1u << 20)

static json_t *objects; /* every Kubernetes object of every file */
static char failed_ids[4096];
static unsigned npass, nfail;

__attribute__((format(printf, 3, 4))) static void check(bool ok, const char *id, const char *fmt,
							 ...)
{
	char what[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	printf("%s - %s: %s\n", ok ? "ok" : "not ok", id, what);
	if (ok) {
		npass++;
		return;
	}
	nfail++;
	if (!strstr(failed_ids, id)) {
		size_t n = strlen(failed_ids);
		snprintf(failed_ids + n, sizeof(failed_ids) - n, "%s%s", n ? "," : "", id);
	}
}

static char *read_all(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;

	if (!f)
		return NULL;
	buf = malloc(MAX_FILE_BYTES + 1);
	if (buf) {
		*len = fread(buf, 1, MAX_FILE_BYTES + 1, f);
		if (*len > MAX_FILE_BYTES) {
			free(buf);
			buf = NULL;
		} else {
			buf[*len] = '\0';
		}
	}
	fclose(f);
	return buf;
}

/* ---- no real secrets ------------------------------------------------------ */

static bool tokenish(int c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '+' || c == '/' || c == '=' || c == '_' || c == '-';
}

/* Something that looks like a credential: a private key block, a known
 * token prefix, a long hex run, or a long base64-like run mixing digits
 * and both cases. Placeholders (REPLACE_ME...) and ${NAME} are words. */
static const char *secret_like(const char *text)
{
	static const char *const marks[] = {
		"-----BEGIN", "AKIA", "ghp_", "gho_", "github_pat_", "xoxb-", "xoxp-", "sk_live_",
		"glpat-", "eyJhbGci", "eyJ0eXAi",
	};

	for (size_t i = 0; i < sizeof(marks) / sizeof(marks[0]); i++)
		if (strstr(text, marks[i]))
			return marks[i];
	for (const char *p = text; *p;) {
		const char *s = p;
		size_t hex = 0, digits = 0, upper = 0, lower = 0;
		while (*p && tokenish((unsigned char)*p)) {
			hex += strchr("0123456789abcdefABCDEF", *p) != NULL;
			digits += *p >= '0' && *p <= '9';
			upper += *p >= 'A' && *p <= 'Z';
			lower += *p >= 'a' && *p <= 'z';
			p++;
		}
		size_t n = (size_t)(p - s);
		if (n >= 32 && hex == n && digits > 0)
			return "a long hexadecimal string";
		if (n >= 40 && digits >= 4 && upper >= 4 && lower >= 4)
			return "a long random-looking string";
		if (*p)
			p++;
	}
	return NULL;
}

/* ---- YAML 1.1 and 1.2 disagree ------------------------------------------------ */

/*
 * A plain value that YAML 1.1 (what Kubernetes' parser speaks) and YAML
 * 1.2 (yaml_json, and most tools) read differently: a number with a
 * leading zero (0444 is octal 292 in 1.1, decimal 444 in 1.2) or a 1.1
 * boolean word (yes, no, on, off, y, n: strings in 1.2). Quote it or
 * write it otherwise. Returns the line number of the first one, or 0.
 */
static unsigned ambiguous_line(const char *text, char *what, size_t size)
{
	static const char *const words[] = {"yes", "no", "on", "off", "y", "n"};
	unsigned line = 1;

	for (const char *p = text; *p; line++) {
		const char *eol = strchr(p, '\n'), *v;
		size_t n = eol ? (size_t)(eol - p) : strlen(p), vl;
		char buf[256];
		snprintf(buf, sizeof(buf), "%.*s", (int)(n < sizeof(buf) ? n : sizeof(buf) - 1), p);
		p += n + (eol != NULL);
		buf[strcspn(buf, "#")] = '\0'; /* a comment (a # inside quotes is not a concern here) */
		if (!(v = strstr(buf, ": ")) && !(v = strstr(buf, "- ")))
			continue;
		v += 2;
		v += strspn(v, " ");
		vl = strcspn(v, " ");
		if (vl == 0 || v[vl + strspn(v + vl, " ")] != '\0')
			continue;
		if (vl > 1 && v[0] == '0' && strspn(v, "0123456789") == vl) {
			snprintf(what, size, "%.*s (octal in YAML 1.1, decimal in 1.2)", (int)vl, v);
			return line;
		}
		for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
			if (strlen(words[i]) == vl && !strncasecmp(v, words[i], vl)) {
				snprintf(what, size, "%.*s (a boolean in YAML 1.1, a string in 1.2)", (int)vl, v);
				return line;
			}
		}
	}
	return 0;
}

/* ---- reading deploy/ ------------------------------------------------------- */

static bool has_suffix(const char *s, const char *suf)
{
	size_t a = strlen(s), b = strlen(suf);
	return a >= b && strcmp(s + a - b, suf) == 0;
}

/* Every file under dir (depth first), YAML ones parsed into objects. */
static void walk(const char *dir, unsigned *nyaml)
{
	struct dirent **ents = NULL;
	int n = scandir(dir, &ents, NULL, alphasort);

	for (int i = 0; i < n; i++) {
		char path[1024];
		struct stat st;
		const char *name = ents[i]->d_name;
		if (name[0] == '.' || snprintf(path, sizeof(path), "%s/%s", dir, name) >= (int)sizeof(path) ||
		    stat(path, &st) != 0) {
			free(ents[i]);
			continue;
		}
		if (S_ISDIR(st.st_mode)) {
			walk(path, nyaml);
		} else if (S_ISREG(st.st_mode)) {
			size_t len = 0;
			char *text = read_all(path, &len);
			const char *why = text ? secret_like(text) : NULL;
			check(text != NULL, "file.readable", "%s can be read (at most 1 MiB)", path);
			check(text && !why, "secret.none", "%s holds no real-looking secret%s%s", path,
			      why ? ": " : "", why ? why : "");
			if (text && (has_suffix(name, ".yaml") || has_suffix(name, ".yml"))) {
				char err[YAML_JSON_ERR_MAX];
				json_t *docs = yaml_to_json(text, len, NULL, err);
				size_t k;
				json_t *d;
				char what[128] = "";
				unsigned at_line = ambiguous_line(text, what, sizeof(what));
				(*nyaml)++;
				check(at_line == 0, "yaml.ambiguous",
				      "%s: no plain value YAML 1.1 and 1.2 read differently%s%.0u%s%s", path,
				      at_line ? " (line " : "", at_line, at_line ? "): " : "", what);
				check(docs != NULL, "yaml.parses", "%s parses as YAML%s%s", path,
				      docs ? "" : ": ", docs ? "" : err);
				json_array_foreach(docs, k, d) {
					if (json_is_null(d))
						continue;
					const char *kind = json_string_value(json_object_get(d, "kind"));
					bool named = json_string_value(json_object_get(
						json_object_get(d, "metadata"), "name")) != NULL;
					check(json_is_object(d) && kind &&
						      json_string_value(json_object_get(d, "apiVersion")) &&
						      (named || !strcmp(kind, "Kustomization")),
					      "yaml.object", "%s document %zu has apiVersion, kind and metadata.name",
					      path, k);
					if (kind)
						json_array_append(objects, d);
				}
				json_decref(docs);
			}
			free(text);
		}
		free(ents[i]);
	}
	free(ents);
}

/* The first object of kind (and apiVersion prefix, may be NULL). */
static json_t *find(const char *kind, const char *api)
{
	size_t i;
	json_t *o;

	json_array_foreach(objects, i, o) {
		const char *k = json_string_value(json_object_get(o, "kind"));
		const char *a = json_string_value(json_object_get(o, "apiVersion"));
		if (k && !strcmp(k, kind) && (!api || (a && !strcmp(a, api))))
			return o;
	}
	return NULL;
}

static json_t *at(json_t *v, const char *path)
{
	char key[128];

	while (v && *path) {
		size_t n = strcspn(path, ".");
		snprintf(key, sizeof(key), "%.*s", (int)n, path);
		v = json_object_get(v, key);
		path += n + (path[n] == '.');
	}
	return v;
}

/* A boolean field of the container, else of the pod's securityContext. */
static json_t *sec(json_t *ctr, json_t *pod, const char *field)
{
	json_t *v = at(json_object_get(ctr, "securityContext"), field);
	return v ? v : at(json_object_get(pod, "securityContext"), field);
}

static bool has_string(json_t *arr, const char *s)
{
	size_t i;
	json_t *v;

	json_array_foreach(arr, i, v) if (json_string_value(v) && !strcmp(json_string_value(v), s)) return true;
	return false;
}

static void check_probe(json_t *c, const char *name, const char *probe, const char *path)
{
	json_t *hg = at(c, probe) ? json_object_get(json_object_get(c, probe), "httpGet") : NULL;
	const char *p = json_string_value(json_object_get(hg, "path"));
	json_t *port = json_object_get(hg, "port");
	bool port_ok = json_is_integer(port);
	size_t i;
	json_t *cp;

	json_array_foreach(json_object_get(c, "ports"), i, cp) {
		const char *pn = json_string_value(json_object_get(cp, "name"));
		if (json_is_string(port) && pn && !strcmp(pn, json_string_value(port)))
			port_ok = true;
	}
	check(p && !strcmp(p, path) && port_ok, !strcmp(probe, "readinessProbe") ? "deploy.readiness" : "deploy.liveness",
	      "container %s: %s is GET %s on a declared port", name, probe, path);
}

/* Every ${NAME} in text is set by an env entry of the container (value
 * or valueFrom). */
static void check_env_refs(json_t *c, const char *name, const char *text)
{
	for (const char *p = text; (p = strstr(p, "${")) != NULL; p += 2) {
		const char *end = strchr(p, '}');
		char var[128];
		bool found = false;
		size_t i;
		json_t *e;
		if (!end || (size_t)(end - p - 2) >= sizeof(var))
			continue;
		snprintf(var, sizeof(var), "%.*s", (int)(end - p - 2), p + 2);
		json_array_foreach(json_object_get(c, "env"), i, e) {
			const char *en = json_string_value(json_object_get(e, "name"));
			if (en && !strcmp(en, var))
				found = true;
		}
		check(found, "config.env", "container %s sets ${%s}, which moat.json names", name, var);
	}
}

/* Every secretKeyRef names the Secret and a key it has. */
static void check_secret_refs(json_t *c, const char *name, json_t *secret)
{
	const char *sname = json_string_value(at(secret, "metadata.name"));
	size_t i;
	json_t *e;

	json_array_foreach(json_object_get(c, "env"), i, e) {
		json_t *ref = at(e, "valueFrom.secretKeyRef");
		const char *v = json_string_value(json_object_get(e, "value"));
		const char *en = json_string_value(json_object_get(e, "name"));
		if (ref) {
			const char *rn = json_string_value(json_object_get(ref, "name"));
			const char *rk = json_string_value(json_object_get(ref, "key"));
			check(rn && sname && !strcmp(rn, sname) && rk &&
				      json_object_get(json_object_get(secret, "stringData"), rk),
			      "deploy.secret_ref", "container %s: %s comes from the Secret's key %s", name,
			      en ? en : "?", rk ? rk : "?");
		}
		check(!v || !secret_like(v), "secret.none", "container %s: env %s holds no secret in clear",
		      name, en ? en : "?");
	}
}

static void check_deployment(json_t *config, const char *config_text)
{
	json_t *d = find("Deployment", "apps/v1"), *secret = find("Secret", "v1");
	json_t *pod = at(d, "spec.template.spec");
	json_t *grace = json_object_get(pod, "terminationGracePeriodSeconds");
	json_int_t drain = json_integer_value(at(config, "listen.drain_s"));
	json_int_t stop_sleep = 0;
	size_t i;
	json_t *c;

	check(d != NULL, "deploy.exists", "a Deployment (apps/v1)");
	if (!d)
		return;
	check(json_integer_value(at(d, "spec.replicas")) >= 3, "deploy.replicas", "at least 3 replicas");
	check(!json_is_true(json_object_get(pod, "hostNetwork")) &&
		      !json_is_true(json_object_get(pod, "hostPID")) &&
		      !json_is_true(json_object_get(pod, "hostIPC")),
	      "deploy.host", "no host network, PID or IPC namespace");
	check(json_is_false(json_object_get(pod, "automountServiceAccountToken")), "deploy.sa_token",
	      "no service account token mounted");
	json_array_foreach(json_object_get(pod, "volumes"), i, c) {
		const char *vn = json_string_value(json_object_get(c, "name"));
		check(!json_object_get(c, "hostPath"), "deploy.host_path", "volume %s is not a hostPath",
		      vn ? vn : "?");
	}
	json_t *all = json_array();
	json_array_extend(all, json_object_get(pod, "containers"));
	json_array_extend(all, json_object_get(pod, "initContainers"));
	check(json_array_size(json_object_get(pod, "containers")) > 0, "deploy.containers", "containers");
	json_array_foreach(all, i, c) {
		const char *name = json_string_value(json_object_get(c, "name"));
		json_t *caps = at(json_object_get(c, "securityContext"), "capabilities");
		json_t *uid = sec(c, pod, "runAsUser");
		const char *seccomp = json_string_value(sec(c, pod, "seccompProfile.type"));
		name = name ? name : "?";
		check(json_is_true(sec(c, pod, "runAsNonRoot")), "deploy.non_root", "container %s: runAsNonRoot", name);
		check(json_is_integer(uid) && json_integer_value(uid) > 0, "deploy.uid",
		      "container %s: runAsUser set and not 0", name);
		check(json_is_true(at(c, "securityContext.readOnlyRootFilesystem")), "deploy.read_only_root",
		      "container %s: readOnlyRootFilesystem", name);
		check(json_is_false(at(c, "securityContext.allowPrivilegeEscalation")), "deploy.no_escalation",
		      "container %s: allowPrivilegeEscalation false", name);
		check(!json_is_true(at(c, "securityContext.privileged")), "deploy.not_privileged",
		      "container %s: not privileged", name);
		check(has_string(json_object_get(caps, "drop"), "ALL") &&
			      json_array_size(json_object_get(caps, "add")) == 0,
		      "deploy.capabilities", "container %s: capabilities drop ALL, add none", name);
		check(seccomp && !strcmp(seccomp, "RuntimeDefault"), "deploy.seccomp",
		      "container %s: seccompProfile RuntimeDefault", name);
		check(at(c, "resources.requests.cpu") && at(c, "resources.requests.memory") &&
			      at(c, "resources.limits.cpu") && at(c, "resources.limits.memory"),
		      "deploy.resources", "container %s: cpu and memory requests and limits", name);
		if (i < json_array_size(json_object_get(pod, "containers"))) { /* not an init container */
			check_probe(c, name, "readinessProbe", "/readyz");
			check_probe(c, name, "livenessProbe", "/healthz");
			if (json_is_integer(at(c, "lifecycle.preStop.sleep.seconds")))
				stop_sleep = json_integer_value(at(c, "lifecycle.preStop.sleep.seconds"));
			if (config_text)
				check_env_refs(c, name, config_text);
		}
		if (secret)
			check_secret_refs(c, name, secret);
	}
	json_decref(all);
	check(json_is_integer(grace) && drain > 0 && json_integer_value(grace) > drain + stop_sleep,
	      "deploy.grace", "terminationGracePeriodSeconds (%lld) > preStop (%lld) + listen.drain_s (%lld)",
	      (long long)json_integer_value(grace), (long long)stop_sleep, (long long)drain);
}

static void check_others(void)
{
	json_t *svc = find("Service", "v1"), *hpa = find("HorizontalPodAutoscaler", "autoscaling/v2");
	json_t *pdb = find("PodDisruptionBudget", "policy/v1");
	json_t *np = find("NetworkPolicy", "networking.k8s.io/v1"), *secret = find("Secret", "v1");
	json_t *d = find("Deployment", "apps/v1");
	json_t *labels = at(d, "spec.template.metadata.labels");
	size_t i;
	json_t *r;
	const char *k;
	json_t *v;

	check(svc && json_object_size(at(svc, "spec.selector")) > 0, "svc.exists", "a Service with a selector");
	check(hpa != NULL, "hpa.exists", "a HorizontalPodAutoscaler (autoscaling/v2)");
	if (hpa) {
		const char *t = json_string_value(at(hpa, "spec.scaleTargetRef.name"));
		check(t && d && !strcmp(t, json_string_value(at(d, "metadata.name"))) &&
			      json_integer_value(at(hpa, "spec.minReplicas")) >= 2,
		      "hpa.target", "the HPA scales the Deployment, from at least 2 replicas");
	}
	check(pdb && (at(pdb, "spec.minAvailable") || at(pdb, "spec.maxUnavailable")), "pdb.exists",
	      "a PodDisruptionBudget (policy/v1) with a bound");
	/* Selectors of the Service, PDB and NetworkPolicy pick the pods. */
	json_t *sels[] = {at(svc, "spec.selector"), at(pdb, "spec.selector.matchLabels"),
			  at(np, "spec.podSelector.matchLabels")};
	const char *sel_names[] = {"Service", "PodDisruptionBudget", "NetworkPolicy"};
	for (size_t s = 0; s < 3; s++) {
		bool match = sels[s] && json_object_size(sels[s]) > 0 && labels;
		json_object_foreach(sels[s], k, v) {
			json_t *l = json_object_get(labels, k);
			if (!json_is_string(v) || !json_equal(l, v))
				match = false;
		}
		check(match, "selector.pods", "the %s selects the Deployment's pods", sel_names[s]);
	}
	check(np != NULL, "np.exists", "a NetworkPolicy");
	if (np) {
		json_t *types = at(np, "spec.policyTypes"), *egress = at(np, "spec.egress");
		check(has_string(types, "Egress") && has_string(types, "Ingress"), "np.types",
		      "policyTypes has Ingress and Egress");
		check(json_array_size(egress) > 0, "np.egress", "explicit egress rules");
		json_array_foreach(egress, i, r) {
			check(json_array_size(json_object_get(r, "to")) > 0 &&
				      json_array_size(json_object_get(r, "ports")) > 0,
			      "np.egress_rule", "egress rule %zu names its peers and ports (no allow-all)", i);
			size_t j;
			json_t *peer;
			json_array_foreach(json_object_get(r, "to"), j, peer) {
				const char *cidr = json_string_value(at(peer, "ipBlock.cidr"));
				check(!cidr || (strcmp(cidr, "0.0.0.0/0") && strcmp(cidr, "::/0")),
				      "np.egress_rule", "egress rule %zu is not to the whole Internet", i);
			}
		}
		json_array_foreach(at(np, "spec.ingress"), i, r) {
			check(json_array_size(json_object_get(r, "from")) > 0 &&
				      json_array_size(json_object_get(r, "ports")) > 0,
			      "np.ingress_rule", "ingress rule %zu names its peers and ports", i);
		}
	}
	check(secret != NULL, "secret.exists", "a Secret");
	if (secret) {
		check(!json_object_get(secret, "data"), "secret.placeholders",
		      "the Secret has no base64 data (placeholders are readable stringData)");
		json_object_foreach(at(secret, "stringData"), k, v) {
			const char *s = json_string_value(v);
			check(s && !strncmp(s, "REPLACE_ME", 10), "secret.placeholders",
			      "Secret key %s is a placeholder (REPLACE_ME...)", k);
		}
	}
}

/* The ConfigMap's moat.json: JSON, valid against moat.schema.json, with
 * a cluster whose secrets come from the environment. */
static json_t *check_config(const char **text)
{
	json_t *cm = find("ConfigMap", "v1");
	const char *t = json_string_value(json_object_get(json_object_get(cm, "data"), "moat.json"));
	struct moat_err merr = {0};
	struct schema_error serr = {0};
	json_error_t jerr;
	json_t *cfg = t ? json_loads(t, JSON_REJECT_DUPLICATES, &jerr) : NULL;
	json_t *sdoc = json_loads(config_schema_text(), 0, &jerr);
	struct schema *s = sdoc ? schema_compile(sdoc, &merr) : NULL;
	char msg[600] = "";

	*text = t;
	check(cm && t, "config.exists", "a ConfigMap with data[\"moat.json\"]");
	check(cfg != NULL, "config.json", "moat.json is JSON");
	if (cfg && s && !schema_validate(s, cfg, &serr))
		schema_error_format(&serr, msg, sizeof(msg));
	check(cfg && s && !msg[0], "config.schema", "moat.json is valid against moat.schema.json%s%s",
	      msg[0] ? ": " : "", msg);
	const char *redis = json_string_value(at(cfg, "cluster.redis"));
	const char *key = json_string_value(at(cfg, "cluster.key"));
	const char *pw = json_string_value(at(cfg, "cluster.password"));
	check(redis && !strncmp(redis, "redis://", 8), "config.cluster", "cluster.redis is redis://");
	check(key && !strncmp(key, "${", 2) && pw && !strncmp(pw, "${", 2), "config.cluster_secrets",
	      "cluster.key and cluster.password come from the environment");
	check(json_is_integer(at(cfg, "listen.drain_s")), "config.drain", "listen.drain_s is set");
	schema_free(s);
	json_decref(sdoc);
	return cfg;
}

/* Whether two comma-separated lists of ids hold the same ids. */
static bool in_list(const char *list, const char *id, size_t n)
{
	for (const char *p = list; *p;) {
		size_t m = strcspn(p, ",");
		if (m == n && !strncmp(p, id, n))
			return true;
		p += m + (p[m] == ',');
	}
	return false;
}

static bool same_ids(const char *a, const char *b)
{
	for (int pass = 0; pass < 2; pass++) {
		const char *x = pass ? b : a, *y = pass ? a : b;
		for (const char *p = x; *p;) {
			size_t m = strcspn(p, ",");
			if (!in_list(y, p, m))
				return false;
			p += m + (p[m] == ',');
		}
	}
	return true;
}

int main(int argc, char **argv)
{
	const char *expect = NULL, *dir, *text = NULL;
	unsigned nyaml = 0;
	json_t *cfg;

	if (argc == 4 && !strcmp(argv[1], "--expect")) {
		expect = argv[2];
		dir = argv[3];
	} else if (argc == 2) {
		dir = argv[1];
	} else {
		fprintf(stderr, "usage: check_deploy [--expect ID,ID...] DIR\n");
		return 2;
	}
	objects = json_array();
	walk(dir, &nyaml);
	check(nyaml > 0, "yaml.found", "YAML files under %s (%u)", dir, nyaml);
	cfg = check_config(&text);
	check_deployment(cfg, text);
	check_others();
	json_decref(cfg);
	json_decref(objects);
	printf("%u passed, %u failed\n", npass, nfail);
	if (expect) {
		bool same = same_ids(expect, failed_ids);
		printf("%s - the failed checks are exactly %s (got %s)\n", same ? "ok" : "not ok", expect,
		       failed_ids[0] ? failed_ids : "none");
		return same ? 0 : 1;
	}
	return nfail ? 1 : 0;
}
