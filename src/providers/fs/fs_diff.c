/*
 * fs_diff.c - unified diffs for edit_file (being written).
 */
#include "fs_diff.h"
