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
};

const char *mcp_version_name(enum mcp_version v)
{
	return (unsigned)v < MCP_VERSION_COUNT ? names[v] : "unknown";
}

enum mcp_version mcp_negotiate(const char *requested)
{
	if (requested) {
		for (int v = 0; v < MCP_VERSION_COUNT; v++)
			if (strcmp(requested, names[v]) == 0)
				return (enum mcp_version)v;
	}
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
	};
	return f;
}
