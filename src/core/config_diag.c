/*
 * config_diag.c - config errors that point: the file, the line and column
 * of a syntax error with its cause in plain words, and for an unknown key
 * the nearest allowed one and the list of keys allowed there.
 */
#include "config_diag.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "text.h"

/* Longest piece of the offending token quoted back (bytes). */
#define DIAG_TOKEN_MAX 32

/* jansson's causes, reworded like a compiler's. `before` marks causes that
 * name what was expected, written "CAUSE before TOKEN". */
static const struct {
	const char *jansson;
	const char *plain;
	bool before;
} causes[] = {
	{"'}' expected", "expected ',' or '}'", true},
	{"']' expected", "expected ',' or ']'", true},
	{"string or '}' expected", "expected a key in double quotes or '}'", true},
	{"':' expected", "expected ':'", true},
	{"'[' or '{' expected", "expected '{'", true},
	{"end of file expected", "unexpected text after the end of the document:", false},
	{"unexpected newline", "unexpected newline inside a string:", false},
	{"invalid token", "invalid token", false},
	{"unexpected token", "unexpected token", false},
	{"duplicate object key", "duplicate object key", false},
	{"\\u0000 is not allowed without JSON_ALLOW_NUL", "\\u0000 is not allowed in a string:",
	 false},
	{"real number overflow", "number out of range", false},
};

/* UTF-8 characters in s[0..n): jansson counts columns in characters. */
static size_t utf8_chars(const char *s, size_t n)
{
	size_t c = 0;

	for (size_t i = 0; i < n; i++)
		if (((unsigned char)s[i] & 0xC0) != 0x80)
			c++;
	return c;
}

bool config_diag_syntax(const char *label, const char *text, size_t len, char *buf, size_t size)
{
	json_error_t jerr;
	json_t *doc = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	char cause[sizeof(jerr.text)], tok[DIAG_TOKEN_MAX + 8] = "", shown[DIAG_TOKEN_MAX + 16];
	const char *near, *plain = NULL;
	const char *note = "";
	bool before = false, at_eof = false;
	int line = jerr.line, col = jerr.column;

	if (doc) {
		json_decref(doc);
		return false;
	}
	snprintf(cause, sizeof(cause), "%s", jerr.text);
	/* "CAUSE near 'TOKEN'" or "CAUSE near end of file". */
	near = strstr(cause, " near ");
	if (near) {
		const char *t = near + 6;
		size_t tl = strlen(t);

		if (strcmp(t, "end of file") == 0) {
			at_eof = true;
		} else if (tl >= 2 && t[0] == '\'' && t[tl - 1] == '\'') {
			size_t n = tl - 2;

			/* The column is the token's last character: point at its first. */
			if ((size_t)col > utf8_chars(t + 1, n))
				col -= (int)utf8_chars(t + 1, n) - 1;
			if (n > DIAG_TOKEN_MAX) {
				n = DIAG_TOKEN_MAX;
				while (n > 0 && ((unsigned char)t[1 + n] & 0xC0) == 0x80)
					n--; /* never cut a UTF-8 sequence */
			}
			snprintf(tok, sizeof(tok), "%.*s%s", (int)n, t + 1,
				 n < tl - 2 ? "..." : "");
		}
		cause[near - cause] = '\0';
	}
	for (size_t i = 0; i < sizeof(causes) / sizeof(causes[0]); i++) {
		if (strcmp(cause, causes[i].jansson) == 0) {
			plain = causes[i].plain;
			before = causes[i].before;
			break;
		}
	}
	if (!plain)
		plain = cause;
	if (strcmp(cause, "string or '}' expected") == 0 && strcmp(tok, "}") == 0) {
		plain = "a ',' before '}' (JSON allows no trailing comma)";
		tok[0] = '\0';
	} else if (strcmp(cause, "'[' or '{' expected") == 0 && at_eof && len == 0) {
		plain = "the file is empty; expected '{'";
		at_eof = false;
	} else if (strncmp(cause, "unable to decode byte", 21) == 0) {
		plain = "invalid UTF-8"; /* the token is a cut sequence: show none */
		tok[0] = '\0';
	} else if (tok[0] == '/') {
		note = " (JSON has no comments)";
	} else if (tok[0] == '\'') {
		note = " (JSON strings take double quotes)";
	}
	/* A string token keeps its own double quotes; others get single ones. */
	if (tok[0] == '"')
		snprintf(shown, sizeof(shown), "%s", tok);
	else if (tok[0])
		snprintf(shown, sizeof(shown), "'%s'", tok);
	else
		shown[0] = '\0';
	if (line < 1)
		line = 1;
	if (col < 1)
		col = 1;
	if (at_eof)
		snprintf(buf, size, "%s:%d:%d: not valid JSON: %s at end of file", label, line, col,
			 plain);
	else if (shown[0])
		snprintf(buf, size, "%s:%d:%d: not valid JSON: %s%s%s%s", label, line, col, plain,
			 before ? " before " : " ", shown, note);
	else
		snprintf(buf, size, "%s:%d:%d: not valid JSON: %s", label, line, col, plain);
	return true;
}

void config_diag_schema(const char *label, const struct schema_error *e, char *buf, size_t size)
{
	char ptr[sizeof(e->pointer) + sizeof(e->unknown) + 8];

	if (strcmp(e->keyword, "additionalProperties") == 0 && e->unknown[0]) {
		snprintf(ptr, sizeof(ptr), "%s", e->pointer);
		text_ptr_push(ptr, sizeof(ptr), e->unknown);
		if (e->suggest[0])
			snprintf(buf, size, "%s: %s: unknown key; did you mean \"%s\"? (allowed here: %s)",
				 label, ptr, e->suggest, e->allowed[0] ? e->allowed : "none");
		else
			snprintf(buf, size, "%s: %s: unknown key (allowed here: %s)", label, ptr,
				 e->allowed[0] ? e->allowed : "none");
		return;
	}
	snprintf(buf, size, "%s: %s: %s: %s", label, e->pointer[0] ? e->pointer : "(root)",
		 e->keyword, e->message);
}
