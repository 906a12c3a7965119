/*
 * sandbox.c - the kernel sandbox applied after start-up (being written).
 */
#include "sandbox.h"
