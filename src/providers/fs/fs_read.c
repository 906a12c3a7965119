/*
 * fs_read.c - the fs family's read tools (being written).
 */
#include "fs.h"

enum moat_rc fs_register_read(struct registry *reg, struct fs *fs, struct moat_err *err)
{
	return MOAT_OK;
}
