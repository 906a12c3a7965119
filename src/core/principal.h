/*
 * principal.h - who is calling, and which tools that caller may use.
 *
 * A transport establishes the principal of every message it hands to the
 * server: "local" on stdio and on a loopback listener without "auth", a
 * static token's name or a JWT's subject over HTTP (src/auth/). The core
 * applies the principal's tool policy: a tool outside it is left out of
 * tools/list and a call to it is answered exactly as for an unknown tool,
 * so a caller learns nothing of tools it may not use. Resources of a
 * family are served only to a principal allowed at least one of that
 * family's tools.
 *
 * A policy is a list of groups, each a list of glob patterns over tool
 * names (fnmatch: `read_*`, `git_*`, `*`). A static token is one group; an
 * OAuth configuration has one group per scope, and a token holding scopes
 * holds their groups (a bit each in principal.groups). A principal is a
 * small value: the server copies it into every call it admits, so a
 * transport may free its own copy once server_handle_from() returns.
 */
#ifndef MOAT_CORE_PRINCIPAL_H
#define MOAT_CORE_PRINCIPAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "limits_cfg.h"

#define PRINCIPAL_NAME_MAX 128 /* bytes with the NUL; longer names are refused */
#define PRINCIPAL_ADDR_MAX 64  /* "[v6]:port" fits */
#define POLICY_MAX_GROUPS 64
#define POLICY_MAX_PATTERNS 256 /* in one group */

struct tool_policy; /* opaque */

struct principal {
	char name[PRINCIPAL_NAME_MAX];    /* "local", a token name, a JWT sub */
	const struct tool_policy *policy; /* NULL: every tool; borrowed, must
					     outlive every server using it */
	uint64_t groups;                  /* the policy groups this caller holds */
	struct token_bucket *bucket;      /* tool calls a minute for this caller
					     across its sessions; NULL: none;
					     borrowed, outlives the servers */
	char addr[PRINCIPAL_ADDR_MAX];    /* the client's address; "" on stdio */
	bool metrics;                     /* may read GET /metrics */
};

/* principal_local - the principal of stdio and of loopback without auth:
 * "local", every tool, no bucket of its own. Static storage. */
const struct principal *principal_local(void);

/* policy_new - an empty policy (no group: allows nothing). Caller owns it;
 * free with policy_free(). NULL on ENOMEM. */
struct tool_policy *policy_new(void);

/*
 * policy_add_group - append a group of n glob patterns (copied). Returns
 * the group's index (its bit is 1 << index), or -1 when the policy already
 * has POLICY_MAX_GROUPS groups, n exceeds POLICY_MAX_PATTERNS, a pattern is
 * not made of [A-Za-z0-9_.*?-] or is longer than 128 bytes (why names it),
 * or memory ran out.
 */
int policy_add_group(struct tool_policy *p, const char *const *patterns, size_t n,
		     char *why, size_t why_size);

/* policy_allows - true when tool is matched by a pattern of a group in
 * groups. A NULL policy allows everything. Thread-safe (read-only). */
bool policy_allows(const struct tool_policy *p, uint64_t groups, const char *tool);

/* principal_allows - policy_allows for who (NULL: local, everything). */
bool principal_allows(const struct principal *who, const char *tool);

/* policy_group_patterns - the patterns of group i (borrowed) and their
 * count in *n, for `moat check`; NULL when i is out of range. */
const char *const *policy_group_patterns(const struct tool_policy *p, int i, size_t *n);

/* policy_free - free p. Accepts NULL. */
void policy_free(struct tool_policy *p);

#endif
