/*
 * import_grouped.c - issue 15, being written (see import.h for the plan of files).
 */
