/*
 * import.c - issue 15, being written (see import.h for the plan of files).
 */
int moat_import_stub_unused(void);
