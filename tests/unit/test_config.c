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
#include <unistd.h>

#include <cmocka.h>

#include "config.h"

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
	expect_error("{\"bogus\":1}", "config (root): additionalProperties: additional property 'bogus'");
	expect_error("{\"limits\":{\"call_timeout_ms\":\"fast\"}}", "/limits/call_timeout_ms: type");
	expect_error("{\"limits\":{\"max_json_depth\":1}}", "/limits/max_json_depth: minimum");
	expect_error("{\"log\":{\"level\":\"loud\"}}", "/log/level: enum");
	expect_error("{\"limits\":{\"tools\":{\"bad name\":{}}}}", "propertyNames");
	expect_error("[]", "(root): type");
	expect_error("{\"a\":1,\"a\":1}", "duplicate object key");
	expect_error("{", "not valid JSON");
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
	assert_int_equal(config_load_file("/nonexistent/moat.json", &cfg, &err), MOAT_EIO);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_schema_errors),
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_env_references),
		cmocka_unit_test(test_dotenv),
		cmocka_unit_test(test_file),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
