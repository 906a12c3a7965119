/*
 * fs_list.c - the fs family's list tools (being written).
 */
#include "fs.h"

enum moat_rc fs_register_list(struct registry *reg, struct fs *fs, struct moat_err *err)
{
	return MOAT_OK;
}
