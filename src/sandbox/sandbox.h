/*
 * sandbox.h - the kernel sandbox applied after start-up (being written).
 */
#ifndef MOAT_SANDBOX_SANDBOX_H
#define MOAT_SANDBOX_SANDBOX_H

#endif
