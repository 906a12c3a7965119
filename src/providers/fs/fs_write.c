/*
 * fs_write.c - the fs family's write tools (being written).
 */
#include "fs.h"

enum moat_rc fs_register_write(struct registry *reg, struct fs *fs, struct moat_err *err)
{
	return MOAT_OK;
}
