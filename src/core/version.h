/*
 * version.h - the MCP protocol revisions moat speaks and what each gets.
 *
 * Negotiation follows the specification: a requested revision moat supports
 * is echoed; anything else is answered with the newest one. The feature
 * table says which optional parts of a message a revision may carry, so the
 * rest of the server never compares version strings. Pure, thread-safe.
 */
#ifndef MOAT_CORE_VERSION_H
#define MOAT_CORE_VERSION_H

#include <stdbool.h>

enum mcp_version {
	MCP_2024_11_05,
	MCP_2025_03_26,
	MCP_2025_06_18,
	MCP_2025_11_25,
	MCP_VERSION_COUNT,
};

#define MCP_VERSION_LATEST MCP_2025_11_25

struct mcp_features {
	bool batches;          /* JSON-RPC batches (2025-03-26 only) */
	bool tool_annotations; /* tools[].annotations */
	bool progress_message; /* notifications/progress "message" */
	bool titles;           /* tools[].title, serverInfo.title */
	bool structured;       /* outputSchema + structuredContent */
};

/* mcp_version_name - "2025-06-18" etc. Static storage. */
const char *mcp_version_name(enum mcp_version v);

/* mcp_negotiate - the revision to answer a client that asked for requested
 * (may be NULL): the same one when supported, else the newest. */
enum mcp_version mcp_negotiate(const char *requested);

/* mcp_features_of - the optional features of revision v. */
struct mcp_features mcp_features_of(enum mcp_version v);

#endif
