/*
 * openapi_ref.c - issue 15, being written (see import.h for the plan of files).
 */
