/*
 * fs_diff.h - unified diffs for edit_file (being written).
 */
#ifndef MOAT_PROVIDERS_FS_FS_DIFF_H
#define MOAT_PROVIDERS_FS_FS_DIFF_H

#endif
