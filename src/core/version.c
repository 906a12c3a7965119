/*
 * version.c - MCP revision negotiation and the per-revision feature table.
 */
#include "version.h"

#include <string.h>

static const char *const names[MCP_VERSION_COUNT] = {
	[MCP_2024_11_05] = "2024-11-05",
	[MCP_2025_03_26] = "2025-03-26",
	[MCP_2025_06_18] = "2025-06-18",
	[MCP_2025_11_25] = "2025-11-25",
	[MCP_2026_07_28] = "2026-07-28",
};

const char *mcp_version_name(enum mcp_version v)
{
	return (unsigned)v < MCP_VERSION_COUNT ? names[v] : "unknown";
}

bool mcp_version_parse(const char *name, enum mcp_version *v)
{
	if (!name)
		return false;
	for (int i = 0; i < MCP_VERSION_COUNT; i++) {
		if (strcmp(name, names[i]) == 0) {
			*v = (enum mcp_version)i;
			return true;
		}
	}
	return false;
}

bool mcp_version_stateless(enum mcp_version v)
{
	return v >= MCP_2026_07_28;
}

enum mcp_version mcp_negotiate(const char *requested)
{
	enum mcp_version v;

	if (mcp_version_parse(requested, &v) && !mcp_version_stateless(v))
		return v;
	return MCP_VERSION_LATEST;
}

struct mcp_features mcp_features_of(enum mcp_version v)
{
	struct mcp_features f = {
		.batches = v == MCP_2025_03_26,
		.tool_annotations = v >= MCP_2025_03_26,
		.progress_message = v >= MCP_2025_03_26,
		.titles = v >= MCP_2025_06_18,
		.structured = v >= MCP_2025_06_18,
		.stateless = v >= MCP_2026_07_28,
	};
	return f;
}
