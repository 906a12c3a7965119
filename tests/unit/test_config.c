/*
 * test_config.c - unit tests for src/core/config.c: schema errors with
 * pointers, strict JSON, ${NAME} resolution from the environment and .env,
 * secret masking, limits extraction.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"
#include "config_env.h"

static char tmpdir[64];

static int setup(void **state)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/moat-test-config-XXXXXX");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
	char p[128];

	snprintf(p, sizeof(p), "%s/.env", tmpdir);
	unlink(p);
	snprintf(p, sizeof(p), "%s/moat.json", tmpdir);
	unlink(p);
	rmdir(tmpdir);
	return 0;
}

static void write_file(const char *name, const char *text)
{
	char p[128];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", tmpdir, name);
	f = fopen(p, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static enum moat_rc load(const char *text, struct moat_config *cfg, struct moat_err *err)
{
	return config_load_text(text, strlen(text), tmpdir, cfg, err);
}

static void expect_error(const char *text, const char *want)
{
	struct moat_config cfg;
	struct moat_err err = {0};

	assert_int_not_equal(load(text, &cfg, &err), MOAT_OK);
	if (!strstr(err.msg, want))
		fail_msg("error '%s' does not contain '%s'", err.msg, want);
	config_free(&cfg);
}

static void test_defaults(void **state)
{
	struct moat_config cfg;
	struct moat_err err = {0};

	assert_int_equal(config_defaults(&cfg, &err), MOAT_OK);
	assert_int_equal(cfg.limits.max_json_depth, 64);
	assert_string_equal(cfg.server_name, "moat");
	assert_true(cfg.audit_on); /* on by default: test_audit.c checks where */
	assert_true(cfg.audit_default);
	config_free(&cfg);
}

static void test_schema_errors(void **state)
{
	expect_error("{\"bogus\":1}", "config: /bogus: unknown key (allowed here: $schema, ");
	expect_error("{\"limits\":{\"call_timeout_ms\":\"fast\"}}", "/limits/call_timeout_ms: type");
	expect_error("{\"limits\":{\"max_json_depth\":1}}", "/limits/max_json_depth: minimum");
	expect_error("{\"log\":{\"level\":\"loud\"}}", "/log/level: enum");
	expect_error("{\"limits\":{\"tools\":{\"bad name\":{}}}}", "propertyNames");
	expect_error("[]", "config: (root): type");
	expect_error("{\"a\":1,\"a\":1}", "duplicate object key");
	expect_error("{", "not valid JSON");
}

/* A config error names the file, and the file only once. */
static void expect_file_error(const char *text, const char *want)
{
	struct moat_config cfg;
	struct moat_err err = {0};
	char p[128], full[512];

	write_file("moat.json", text);
	snprintf(p, sizeof(p), "%s/moat.json", tmpdir);
	snprintf(full, sizeof(full), "%s%s", p, want);
	assert_int_not_equal(config_load_file(p, &cfg, &err), MOAT_OK);
	assert_string_equal(err.msg, full);
	config_free(&cfg);
}

static void test_syntax_line_column(void **state)
{
	expect_file_error("{\"roots\": [\".\"],\n  \"fs\": {\"max_entries\": 3\n  \"x\": 1}}\n",
			  ":3:3: not valid JSON: expected ',' or '}' before \"x\"");
	expect_file_error("{\"roots\": [\".\"],}", ":1:17: not valid JSON: a ',' before '}' "
			  "(JSON allows no trailing comma)");
	expect_file_error("{\"a\": [1 2]}", ":1:10: not valid JSON: expected ',' or ']' before '2'");
	expect_file_error("{\"a\" 1}", ":1:6: not valid JSON: expected ':' before '1'");
	expect_file_error("{\"log\": tru}", ":1:9: not valid JSON: invalid token 'tru'");
	expect_file_error("// note\n{}", ":1:1: not valid JSON: expected '{' before '/' "
			  "(JSON has no comments)");
	expect_file_error("{} x", ":1:4: not valid JSON: unexpected text after the end of the "
			  "document: 'x'");
	expect_file_error("{\"log\": {}\n", ":2:1: not valid JSON: expected ',' or '}' at end of file");
	expect_file_error("", ":1:1: not valid JSON: the file is empty; expected '{'");
	expect_file_error("{\"log\": {},\n \"log\": {}}", ":2:2: not valid JSON: duplicate object key \"log\"");
	{
		char deep[200] = "";
		for (int i = 0; i < 70; i++)
			strcat(deep, "[");
		for (int i = 0; i < 70; i++)
			strcat(deep, "]");
		expect_file_error(deep, ": nests deeper than 64 levels");
	}
	expect_file_error("{\"server\": {\"name\": \"\xff\"}}", ":1:21: not valid JSON: invalid UTF-8");
	expect_file_error("{\"limits\": {\"workers\": 1e999}}", ":1:24: not valid JSON: number out of "
			  "range '1e999'");
	/* columns count characters, not bytes */
	expect_file_error("{\"server\": {\"name\": \"\xc3\xa9\xc3\xa9\" \"x\"}}",
			  ":1:26: not valid JSON: expected ',' or '}' before \"x\"");
}

/* The "cluster" section: its keys and bounds (the URL's own rules are
 * src/cluster/'s, tested in test_cluster). */
static void test_cluster_schema(void **state)
{
	expect_file_error("{\"cluster\": {\"redis\": \"redis://127.0.0.1\"}}",
			  ": /cluster: required: required property 'key' is missing");
	expect_file_error("{\"cluster\": {\"redis\": \"redis://127.0.0.1\", \"key\": \"${K}\", "
			  "\"pool\": 17}}",
			  ": /cluster/pool: maximum: must be <= 16");
	expect_file_error("{\"cluster\": {\"redis\": \"redis://127.0.0.1\", \"key\": \"${K}\", "
			  "\"pol\": 2}}",
			  ": /cluster/pol: unknown key; did you mean \"pool\"? (allowed here: "
			  "connect_timeout_ms, key, on_store_failure, password, pool, prefix, redis, "
			  "replicas, timeout_ms, username)");
}

static void test_unknown_key_suggestion(void **state)
{
	expect_file_error("{\"root\": [\".\"]}",
			  ": /root: unknown key; did you mean \"roots\"? (allowed here: $schema, "
			  "audit, auth, cluster, confirm, databases, fs, git, http, limits, listen, log, prompts, roots, server, testing)");
	expect_file_error("{\"limits\": {\"max_mesage_bytes\": 2048}}",
			  ": /limits/max_mesage_bytes: unknown key; did you mean "
			  "\"max_message_bytes\"? (allowed here: call_timeout_ms, calls_per_minute, "
			  "max_concurrent_calls, max_json_depth, max_message_bytes, max_output_bytes, "
			  "tool_calls_per_minute, tools, tools_page_size, workers)");
	/* a swap of two letters is one edit */
	expect_file_error("{\"git\": {\"repositories\": [{\"path\": \".\"}, {\"path\": \".\", "
			  "\"nmae\": \"x\"}]}}",
			  ": /git/repositories/1/nmae: unknown key; did you mean \"name\"? "
			  "(allowed here: name, path)");
	/* nothing close: the list only */
	expect_file_error("{\"zzzzzz\": 1}", ": /zzzzzz: unknown key (allowed here: $schema, "
			  "audit, auth, cluster, confirm, databases, fs, git, http, limits, listen, log, prompts, roots, server, testing)");
}

static void test_pointers_absolute(void **state)
{
	/* every pointer starts at the config's root, deep inside a family */
	expect_file_error("{\"git\": {\"repositories\": [{\"path\": \".\"}, {\"path\": 3}]}}",
			  ": /git/repositories/1/path: type: must be of type string");
	expect_file_error("{\"databases\": {\"shop\": {\"type\": \"sqlite\", \"path\": \"a.db\", "
			  "\"max_rows\": \"ten\"}}}",
			  ": /databases/shop/max_rows: type: must be of type integer");
	expect_file_error("{\"server\": {\"instructions\": \"${MOAT_TEST_SURELY_UNSET}\"}}",
			  ": /server/instructions: environment variable MOAT_TEST_SURELY_UNSET is "
			  "not set (nor in $CREDENTIALS_DIRECTORY, nor in .env beside the config)");
}

static void test_values(void **state)
{
	struct moat_config cfg;
	struct moat_err err = {0};

	assert_int_equal(load("{\"limits\":{\"call_timeout_ms\":5,\"workers\":2,\"calls_per_minute\":0},"
			      "\"log\":{\"level\":\"debug\",\"audit_file\":\"audit.jsonl\"},"
			      "\"server\":{\"name\":\"crm\",\"instructions\":\"hi\"}}",
			      &cfg, &err),
			 MOAT_OK);
	assert_int_equal(cfg.limits.call_timeout_ms, 5);
	assert_int_equal(cfg.limits.workers, 2);
	assert_int_equal(cfg.limits.calls_per_minute, 0);
	assert_int_equal(cfg.limits.max_output_bytes, 1u << 20); /* untouched default */
	assert_true(cfg.log_level_set);
	assert_int_equal(cfg.log_level, LOG_LVL_DEBUG);
	assert_non_null(strstr(cfg.audit_file, tmpdir)); /* relative to the config */
	assert_string_equal(cfg.server_name, "crm");
	assert_string_equal(cfg.instructions, "hi");
	config_free(&cfg);
}

static void test_env_references(void **state)
{
	struct moat_config cfg;
	struct moat_err err = {0};
	char msg[256];

	setenv("MOAT_TEST_TOKEN", "s3cr3t-token", 1);
	assert_int_equal(load("{\"server\":{\"instructions\":\"Bearer ${MOAT_TEST_TOKEN}!\"}}", &cfg, &err),
			 MOAT_OK);
	assert_string_equal(cfg.instructions, "Bearer s3cr3t-token!");
	/* the raw document keeps the reference, never the value */
	char *raw = json_dumps(cfg.raw, 0);
	assert_null(strstr(raw, "s3cr3t"));
	assert_non_null(strstr(raw, "${MOAT_TEST_TOKEN}"));
	free(raw);
	snprintf(msg, sizeof(msg), "upstream said s3cr3t-token twice: s3cr3t-token.");
	config_scrub(&cfg, msg, sizeof(msg));
	assert_string_equal(msg, "upstream said **** twice: ****.");
	config_free(&cfg);
	unsetenv("MOAT_TEST_TOKEN");

	expect_error("{\"server\":{\"instructions\":\"${MOAT_TEST_MISSING}\"}}",
		     "/server/instructions: environment variable MOAT_TEST_MISSING is not set");
	expect_error("{\"server\":{\"instructions\":\"${1BAD}\"}}", "malformed ${NAME}");
	expect_error("{\"server\":{\"instructions\":\"${OPEN\"}}", "malformed ${NAME}");
}

/* server.state_key: from the environment only, 32 bytes in hex or base64;
 * state_ttl_seconds; "confirm" takes only true. */
static void test_state_key(void **state)
{
	struct moat_config cfg;
	struct moat_err err = {0};

	setenv("MOAT_TEST_SKEY", "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f", 1);
	assert_int_equal(load("{\"server\":{\"state_key\":\"${MOAT_TEST_SKEY}\","
			      "\"state_ttl_seconds\":5},\"confirm\":{\"fs\":true}}",
			      &cfg, &err),
			 MOAT_OK);
	assert_true(cfg.state_key_set);
	assert_int_equal(cfg.state_key[31], 0x1f);
	assert_int_equal(cfg.state_ttl_s, 5);
	config_free(&cfg);
	assert_int_equal(load("{}", &cfg, &err), MOAT_OK);
	assert_false(cfg.state_key_set);
	assert_int_equal(cfg.state_ttl_s, 0);
	config_free(&cfg);
	setenv("MOAT_TEST_SKEY", "too short", 1);
	expect_error("{\"server\":{\"state_key\":\"${MOAT_TEST_SKEY}\"}}",
		     "/server/state_key: the key must be 32 bytes");
	unsetenv("MOAT_TEST_SKEY");
	/* Written in the file itself: refused. */
	expect_error("{\"server\":{\"state_key\":"
		     "\"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\"}}",
		     "/server/state_key");
	expect_error("{\"confirm\":{\"fs\":false}}", "/confirm/fs");
	expect_error("{\"server\":{\"state_ttl_seconds\":0}}", "/server/state_ttl_seconds");
}

static void test_dotenv(void **state)
{
	struct moat_config cfg;
	struct moat_err err = {0};

	write_file(".env", "# comment\nexport MOAT_DOTENV_A=\"from-dotenv\"\nMOAT_DOTENV_B=bbbb\n");
	setenv("MOAT_DOTENV_B", "from-environment", 1);
	assert_int_equal(load("{\"server\":{\"name\":\"${MOAT_DOTENV_A}\",\"instructions\":\"${MOAT_DOTENV_B}\"}}",
			      &cfg, &err),
			 MOAT_OK);
	assert_string_equal(cfg.server_name, "from-dotenv");
	assert_string_equal(cfg.instructions, "from-environment"); /* environment wins */
	assert_int_equal(cfg.nsecrets, 2);
	config_free(&cfg);
	unsetenv("MOAT_DOTENV_B");
	write_file(".env", "not a pair\n");
	expect_error("{\"server\":{\"name\":\"${MOAT_DOTENV_A}\"}}", ".env line 1");
	write_file(".env", "");
}

/* systemd's LoadCredential=: $CREDENTIALS_DIRECTORY/NAME, after the
 * environment and before .env; a bad credential file is refused by name. */
static void test_credentials(void **state)
{
	struct moat_config cfg;
	struct moat_err err = {0};
	char dir[160], p[200];

	snprintf(dir, sizeof(dir), "%s/creds", tmpdir);
	assert_int_equal(mkdir(dir, 0700), 0);
	setenv("CREDENTIALS_DIRECTORY", dir, 1);
	write_file("creds/MOAT_CRED_A", "from-credential\n"); /* one newline dropped */
	write_file("creds/MOAT_CRED_B", "credential-b");
	write_file(".env", "MOAT_CRED_B=from-dotenv\nMOAT_CRED_C=dotenv-c\n");
	setenv("MOAT_CRED_A", "from-environment", 1);
	assert_int_equal(load("{\"server\":{\"name\":\"${MOAT_CRED_A}\",\"instructions\":"
			      "\"${MOAT_CRED_B}/${MOAT_CRED_C}\"}}",
			      &cfg, &err),
			 MOAT_OK);
	assert_string_equal(cfg.server_name, "from-environment"); /* the environment wins */
	assert_string_equal(cfg.instructions, "credential-b/dotenv-c"); /* then credentials, then .env */
	assert_int_equal(cfg.nsecrets, 3); /* each masked */
	config_free(&cfg);
	unsetenv("MOAT_CRED_A");
	assert_int_equal(load("{\"server\":{\"name\":\"${MOAT_CRED_A}\"}}", &cfg, &err), MOAT_OK);
	assert_string_equal(cfg.server_name, "from-credential");
	config_free(&cfg);

	/* a symlink is not followed, even to a readable file */
	snprintf(p, sizeof(p), "%s/MOAT_CRED_LINK", dir);
	assert_int_equal(symlink("/etc/hostname", p), 0);
	expect_error("{\"server\":{\"name\":\"${MOAT_CRED_LINK}\"}}",
		     "/server/name: the credential $CREDENTIALS_DIRECTORY/MOAT_CRED_LINK cannot be opened");
	unlink(p);
	/* a directory, and a NUL byte, are refused */
	snprintf(p, sizeof(p), "%s/MOAT_CRED_DIR", dir);
	assert_int_equal(mkdir(p, 0700), 0);
	expect_error("{\"server\":{\"name\":\"${MOAT_CRED_DIR}\"}}", "is not a small regular file");
	rmdir(p);
	snprintf(p, sizeof(p), "%s/MOAT_CRED_NUL", dir);
	FILE *f = fopen(p, "w");
	assert_non_null(f);
	fwrite("ab\0cd", 1, 5, f);
	fclose(f);
	expect_error("{\"server\":{\"name\":\"${MOAT_CRED_NUL}\"}}", "holds a NUL byte");
	unlink(p);
	/* too large */
	snprintf(p, sizeof(p), "%s/MOAT_CRED_BIG", dir);
	f = fopen(p, "w");
	assert_non_null(f);
	fclose(f);
	assert_int_equal(truncate(p, CONFIG_CREDENTIAL_MAX + 1), 0);
	expect_error("{\"server\":{\"name\":\"${MOAT_CRED_BIG}\"}}", "is not a small regular file");
	unlink(p);
	/* a relative CREDENTIALS_DIRECTORY is ignored */
	setenv("CREDENTIALS_DIRECTORY", "creds", 1);
	expect_error("{\"server\":{\"name\":\"${MOAT_CRED_A}\"}}", "MOAT_CRED_A is not set");
	unsetenv("CREDENTIALS_DIRECTORY");
	snprintf(p, sizeof(p), "%s/MOAT_CRED_A", dir);
	unlink(p);
	snprintf(p, sizeof(p), "%s/MOAT_CRED_B", dir);
	unlink(p);
	rmdir(dir);
	write_file(".env", "");
}

static void test_file(void **state)
{
	struct moat_config cfg;
	struct moat_err err = {0};
	char p[128];

	write_file("moat.json", "{\"limits\":{\"workers\":3}}");
	snprintf(p, sizeof(p), "%s/moat.json", tmpdir);
	assert_int_equal(config_load_file(p, &cfg, &err), MOAT_OK);
	assert_int_equal(cfg.limits.workers, 3);
	assert_string_equal(cfg.dir, tmpdir);
	config_free(&cfg);
	assert_int_not_equal(config_load_file(tmpdir, &cfg, &err), MOAT_OK);
	assert_non_null(strstr(err.msg, "regular file"));
	assert_non_null(strstr(err.msg, tmpdir)); /* names the file */
	assert_int_equal(config_load_file("/nonexistent/moat.json", &cfg, &err), MOAT_EIO);
}

/* A config of a few MiB (a grouped import of a large API) loads; one past
 * CONFIG_MAX_BYTES is refused by size before it is read. */
static void test_file_size(void **state)
{
	struct moat_config cfg;
	struct moat_err err = {0};
	size_t big = (size_t)3 << 20;
	char p[128], *text = malloc(CONFIG_MAX_BYTES + 2);

	assert_non_null(text);
	memset(text, ' ', CONFIG_MAX_BYTES + 1);
	memcpy(text, "{\"limits\":{\"workers\":5}}", strlen("{\"limits\":{\"workers\":5}}"));
	text[big] = '\0';
	write_file("moat.json", text);
	snprintf(p, sizeof(p), "%s/moat.json", tmpdir);
	if (config_load_file(p, &cfg, &err) != MOAT_OK)
		fail_msg("%s", err.msg);
	assert_int_equal(cfg.limits.workers, 5);
	config_free(&cfg);
	text[big] = ' ';
	text[CONFIG_MAX_BYTES + 1] = '\0';
	write_file("moat.json", text);
	assert_int_equal(config_load_file(p, &cfg, &err), MOAT_ELIMIT);
	assert_non_null(strstr(err.msg, "larger than 16777216 bytes"));
	write_file("moat.json", "{}");
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_file_size),
		cmocka_unit_test(test_schema_errors),
		cmocka_unit_test(test_syntax_line_column),
		cmocka_unit_test(test_unknown_key_suggestion),
		cmocka_unit_test(test_cluster_schema),
		cmocka_unit_test(test_pointers_absolute),
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_env_references),
		cmocka_unit_test(test_state_key),
		cmocka_unit_test(test_dotenv),
		cmocka_unit_test(test_credentials),
		cmocka_unit_test(test_file),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
