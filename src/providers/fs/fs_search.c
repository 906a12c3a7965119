/*
 * fs_search.c - the fs family's search tools (being written).
 */
#include "fs.h"

enum moat_rc fs_register_search(struct registry *reg, struct fs *fs, struct moat_err *err)
{
	return MOAT_OK;
}
