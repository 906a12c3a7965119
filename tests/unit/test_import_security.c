/*
 * test_import_security.c - unit tests for src/import/import_security.c
 * (every securitySchemes type to headers, query and ${NAME} placeholders)
 * and for a Swagger 2.0 document's body and formData parameters through
 * the whole import. Helpers in import_rig.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "import_rig.h"

/* ---- credentials ---------------------------------------------------------- */


/* Import ONE_GET with these schemes and this document security. */
static json_t *with_security(const char *schemes, const char *security, struct import_result *r)
{
	char *extra = NULL;
	json_t *s;

	assert_true(asprintf(&extra, "'components':{'securitySchemes':%s},'security':%s", schemes,
			     security) > 0);
	s = ok(ONE_GET, extra, &(struct import_opts){.name = "crm"}, r);
	free(extra);
	return s;
}

static void test_security_api_keys(void **state)
{
	struct import_result r;
	json_t *s, *h, *q;
	char k[256];
	(void)state;

	s = with_security("{'k1':{'type':'apiKey','in':'header','name':'X-Api-Key'},"
			  "'k2':{'type':'apiKey','in':'query','name':'api_key'},"
			  "'k3':{'type':'apiKey','in':'cookie','name':'sid'},"
			  "'unused':{'type':'http','scheme':'bearer'}}",
			  "[{'k1':[],'k2':[],'k3':[]},{'unused':[]}]", &r);
	keys(s, k, sizeof(k));
	assert_string_equal(k, "$comment,base_url,headers,query,tools");
	h = json_object_get(s, "headers");
	q = json_object_get(s, "query");
	assert_string_equal(sget(h, "X-Api-Key"), "${CRM_API_KEY}");
	assert_string_equal(sget(q, "api_key"), "${CRM_API_KEY_2}");
	assert_string_equal(sget(h, "Cookie"), "sid=${CRM_API_KEY_3}");
	assert_null(json_object_get(h, "Authorization")); /* second alternative not used */
	assert_string_equal(r.env[0], "CRM_API_KEY");
	assert_string_equal(r.env[1], "CRM_API_KEY_2");
	assert_string_equal(r.env[2], "CRM_API_KEY_3");
	assert_null(r.env[3]);
	assert_true(note_has(&r, "Set CRM_API_KEY in the environment (or .env): the API key sent as "
				 "header X-Api-Key."));
	assert_true(note_has(&r, "Set CRM_API_KEY_2 in the environment (or .env): the API key sent as "
				 "query parameter api_key."));
	assert_true(note_has(&r, "cookie sid"));
	assert_string_equal(json_string_value(json_array_get(json_object_get(s, "$comment"), 0)),
			    r.notes[0]);
	import_result_free(&r);
}

static void test_security_http(void **state)
{
	struct import_result r;
	json_t *s;
	(void)state;

	s = with_security("{'b':{'type':'http','scheme':'Bearer','bearerFormat':'JWT'}}", "[{'b':[]}]",
			  &r);
	assert_string_equal(sget(json_object_get(s, "headers"), "Authorization"), "Bearer ${CRM_TOKEN}");
	assert_string_equal(r.env[0], "CRM_TOKEN");
	import_result_free(&r);

	s = with_security("{'b':{'type':'http','scheme':'basic'}}", "[{'b':[]}]", &r);
	assert_string_equal(sget(json_object_get(s, "headers"), "Authorization"),
			    "Basic ${CRM_BASIC_AUTH}");
	assert_string_equal(r.env[0], "CRM_BASIC_AUTH");
	assert_true(note_has(&r, "base64 of user:password"));
	import_result_free(&r);

	s = with_security("{'d':{'type':'http','scheme':'digest'}}", "[{'d':[]}]", &r);
	assert_null(json_object_get(s, "headers"));
	assert_null(r.env[0]);
	assert_true(note_has(&r, "is not supported by the importer"));
	import_result_free(&r);
}

static void test_security_oauth_oidc(void **state)
{
	struct import_result r;
	json_t *s;
	(void)state;

	s = with_security("{'o':{'type':'oauth2','flows':{'clientCredentials':{'tokenUrl':"
			  "'https://auth.crm.example/token','scopes':{}}}}}",
			  "[{'o':['read']}]", &r);
	assert_string_equal(sget(json_object_get(s, "headers"), "Authorization"), "Bearer ${CRM_TOKEN}");
	assert_true(note_has(&r, "https://auth.crm.example/token"));
	import_result_free(&r);

	s = with_security("{'o':{'type':'oauth2','flows':{'authorizationCode':{'authorizationUrl':"
			  "'https://a.example/auth','tokenUrl':'https://a.example/t','scopes':{}}}}}",
			  "[{'o':[]}]", &r);
	assert_string_equal(sget(json_object_get(s, "headers"), "Authorization"), "Bearer ${CRM_TOKEN}");
	assert_true(note_has(&r, "flows: authorizationCode"));
	import_result_free(&r);

	s = with_security("{'i':{'type':'openIdConnect','openIdConnectUrl':"
			  "'https://id.example/.well-known/openid-configuration'},"
			  "'o':{'type':'oauth2','flows':{'implicit':{'authorizationUrl':'https://x','scopes':{}}}}}",
			  "[{'i':[],'o':[]}]", &r);
	/* both want Authorization: the first is kept, the second noted */
	assert_string_equal(sget(json_object_get(s, "headers"), "Authorization"), "Bearer ${CRM_TOKEN}");
	assert_null(r.env[1]);
	assert_true(note_has(&r, "also needs the Authorization header"));
	assert_true(note_has(&r, "OpenID Connect"));
	import_result_free(&r);
}

static void test_security_none_and_per_op(void **state)
{
	struct import_result r;
	json_t *s;
	(void)state;

	/* no security at all, and an empty requirement */
	s = with_security("{'k':{'type':'apiKey','in':'header','name':'X-Key'}}", "[]", &r);
	assert_null(json_object_get(s, "headers"));
	assert_null(json_object_get(s, "$comment"));
	assert_null(r.env[0]);
	import_result_free(&r);
	s = with_security("{'k':{'type':'apiKey','in':'header','name':'X-Key'}}", "[{}]", &r);
	assert_null(json_object_get(s, "headers"));
	import_result_free(&r);

	/* an operation's own security; its header parameter of the same name
	 * is the API's, not an argument; mutualTLS and a missing scheme noted */
	s = ok("{'/x':{'get':{'operationId':'x','security':[{'k':[],'m':[],'gone':[]}],"
	       "'parameters':[{'name':'x-key','in':'header','required':true,'schema':{'type':'string'}}],"
	       "'responses':{}}}}",
	       "'components':{'securitySchemes':{'k':{'type':'apiKey','in':'header','name':'X-Key'},"
	       "'m':{'type':'mutualTLS'}}}",
	       &(struct import_opts){.name = "crm"}, &r);
	assert_string_equal(sget(json_object_get(s, "headers"), "X-Key"), "${CRM_API_KEY}");
	assert_null(json_object_get(tool(s, 0), "headers"));
	assert_int_equal(json_object_size(json_object_get(json_object_get(tool(s, 0), "input_schema"),
							  "properties")), 0);
	assert_true(note_has(&r, "Security scheme m (mutualTLS) is not supported"));
	assert_true(note_has(&r, "Security scheme gone is named but not defined"));
	import_result_free(&r);
}

/* ---- Swagger 2.0 ---------------------------------------------------------- */

static void test_swagger2(void **state)
{
	char *d = dq("{'swagger':'2.0','info':{'title':'Pets','version':'1'},'host':'pets.example',"
		     "'basePath':'/api','schemes':['https'],"
		     "'securityDefinitions':{'key':{'type':'apiKey','in':'header','name':'X-Key'}},"
		     "'security':[{'key':[]}],"
		     "'paths':{'/pets':{'post':{'operationId':'addPet','consumes':['application/json'],"
		     "'parameters':[{'name':'pet','in':'body','required':true,'schema':"
		     "{'$ref':'#/definitions/Pet'}}],'responses':{'200':{'description':'ok'}}}},"
		     "'/pets/{id}/form':{'post':{'operationId':'updateForm',"
		     "'consumes':['application/x-www-form-urlencoded'],"
		     "'parameters':[{'name':'id','in':'path','required':true,'type':'integer'},"
		     "{'name':'name','in':'formData','type':'string'},"
		     "{'name':'status','in':'formData','type':'string'}],"
		     "'responses':{'200':{'description':'ok'}}}},"
		     "'/pets/{id}/photo':{'post':{'operationId':'upload','consumes':['multipart/form-data'],"
		     "'parameters':[{'name':'id','in':'path','required':true,'type':'integer'},"
		     "{'name':'file','in':'formData','type':'file'}],"
		     "'responses':{'200':{'description':'ok'}}}}},"
		     "'definitions':{'Pet':{'type':'object','required':['name'],"
		     "'properties':{'name':{'type':'string'},'id':{'type':'integer','readOnly':true}}}}}");
	struct import_opts o = {.name = "pets", .allow_writes = true};
	struct import_result r;
	struct moat_err e = {0};
	json_t *t, *body;
	(void)state;

	assert_int_equal(run(d, &o, &r, &e), MOAT_OK);
	assert_string_equal(r.version, "2.0");
	assert_string_equal(sget(r.section, "base_url"), "https://pets.example/api");
	assert_string_equal(sget(json_object_get(r.section, "headers"), "X-Key"), "${PETS_API_KEY}");
	t = tool(r.section, 0);
	assert_string_equal(sget(t, "name"), "pets_add_pet");
	assert_string_equal(sget(t, "body"), "{body}");
	assert_null(json_object_get(t, "body_format"));
	body = json_object_get(json_object_get(json_object_get(t, "input_schema"), "properties"), "body");
	assert_string_equal(sget(body, "type"), "object");
	assert_non_null(json_object_get(json_object_get(body, "properties"), "name"));
	assert_null(json_object_get(json_object_get(body, "properties"), "id")); /* readOnly */
	assert_true(json_is_true(json_object_get(t, "confirm")));
	t = tool(r.section, 1);
	assert_string_equal(sget(t, "name"), "pets_update_form");
	assert_string_equal(sget(t, "body_format"), "form");
	body = json_object_get(json_object_get(json_object_get(t, "input_schema"), "properties"), "body");
	assert_non_null(json_object_get(json_object_get(body, "properties"), "status"));
	assert_int_equal(r.ntools, 2);
	assert_false(r.ops[2].selected);
	assert_non_null(strstr(r.ops[2].why, "multipart"));
	schemas_compile(r.section);
	import_result_free(&r);
	free(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_security_api_keys),
		cmocka_unit_test(test_security_http),
		cmocka_unit_test(test_security_oauth_oidc),
		cmocka_unit_test(test_security_none_and_per_op),
		cmocka_unit_test(test_swagger2),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
