/*
 * version.h - the MCP protocol revisions moat speaks and what each gets.
 *
 * Two eras. The initialize era (2024-11-05 .. 2025-11-25) negotiates once
 * per session: a requested revision moat supports is echoed; anything else
 * is answered with the newest of that era. The stateless era (2026-07-28)
 * names its revision in every request's _meta and never initializes
 * (server_stateless.c). The feature table says which optional parts of a
 * message a revision may carry, so the rest of the server never compares
 * version strings. Pure, thread-safe.
 */
#ifndef MOAT_CORE_VERSION_H
#define MOAT_CORE_VERSION_H

#include <stdbool.h>

enum mcp_version {
	MCP_2024_11_05,
	MCP_2025_03_26,
	MCP_2025_06_18,
	MCP_2025_11_25,
	MCP_2026_07_28, /* stateless: per-request _meta, no initialize */
	MCP_VERSION_COUNT,
};

/* The newest revision initialize may negotiate, and the newest of all. */
#define MCP_VERSION_LATEST MCP_2025_11_25
#define MCP_VERSION_NEWEST MCP_2026_07_28

struct mcp_features {
	bool batches;          /* JSON-RPC batches (2025-03-26 only) */
	bool tool_annotations; /* tools[].annotations */
	bool progress_message; /* notifications/progress "message" */
	bool titles;           /* tools[].title, serverInfo.title */
	bool structured;       /* outputSchema + structuredContent */
	bool stateless;        /* 2026-07-28: no session; resultType on every
				  result, ttlMs/cacheScope on lists and reads,
				  input_required instead of server requests */
};

/* mcp_version_name - "2025-06-18" etc. Static storage. */
const char *mcp_version_name(enum mcp_version v);

/* mcp_negotiate - the revision initialize answers a client that asked for
 * requested (may be NULL): the same one when it is an initialize-era
 * revision moat speaks, else MCP_VERSION_LATEST. */
enum mcp_version mcp_negotiate(const char *requested);

/* mcp_version_parse - true with *v set when name is exactly a revision
 * moat speaks (either era). */
bool mcp_version_parse(const char *name, enum mcp_version *v);

/* mcp_version_stateless - true when v is served without initialize. */
bool mcp_version_stateless(enum mcp_version v);

/* mcp_features_of - the optional features of revision v. */
struct mcp_features mcp_features_of(enum mcp_version v);

#endif
