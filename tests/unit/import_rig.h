/*
 * import_rig.h - helpers of the importer's unit tests (test_import*.c);
 * see import_rig.c. cmocka assertions inside: call from a test only.
 */
#ifndef MOAT_TESTS_IMPORT_RIG_H
#define MOAT_TESTS_IMPORT_RIG_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "import/import.h"

/* s with ' turned into " (malloc'd). */
char *dq(const char *s);
/* A 3.0 document with these paths and extra top-level members (malloc'd). */
char *doc3(const char *paths, const char *extra);
/* import_openapi on text; IMPORT_TEST_DUMP=1 prints the section or error. */
enum moat_rc run(const char *text, const struct import_opts *o, struct import_result *r,
		 struct moat_err *e);
/* Import that must succeed; the section (owned by r). */
json_t *ok(const char *paths, const char *extra, const struct import_opts *o,
	   struct import_result *r);
/* Import that must be refused with rule; the message in e. */
void refused(const char *paths, const char *extra, const struct import_opts *o, const char *rule,
	     struct moat_err *e);
/* The section's i-th tool (must exist). */
json_t *tool(json_t *section, size_t i);
/* o's string member k, or NULL. */
const char *sget(const json_t *o, const char *k);
/* The keys of o joined by ','. */
void keys(const json_t *o, char *buf, size_t n);
/* Does a note of r contain needle? */
bool note_has(const struct import_result *r, const char *needle);
/* What the http family checks of each tool (see import_rig.c). */
void schemas_compile(const json_t *section);

#define ONE_GET "{'/x':{'get':{'operationId':'x','responses':{}}}}"

/* Reads and writes on three paths: GET, POST | GET, PUT, DELETE, OPTIONS,
 * PATCH | GET; tags contacts and deals. */
#define CRUD                                                                                       \
	"{'/c':{'get':{'operationId':'list','tags':['contacts'],'responses':{}},"                  \
	"'post':{'operationId':'create','tags':['contacts'],'requestBody':{'content':"             \
	"{'application/json':{'schema':{'type':'object'}}}},'responses':{}}},"                     \
	"'/c/{id}':{'parameters':[{'name':'id','in':'path','required':true,'schema':"              \
	"{'type':'string'}}],'get':{'operationId':'get','tags':['contacts'],'responses':{}},"      \
	"'put':{'operationId':'replace','responses':{}},"                                          \
	"'delete':{'operationId':'remove','responses':{}},"                                        \
	"'options':{'operationId':'opts','responses':{}},"                                         \
	"'patch':{'operationId':'update','responses':{}}},"                                        \
	"'/d':{'get':{'operationId':'deals','tags':['deals'],'responses':{}}}}"

#endif
