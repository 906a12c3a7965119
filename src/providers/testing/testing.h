/*
 * testing.h - what the test-only tool family's files share (compiled only
 * with -Dtest_provider=true). testing.c registers the tools.
 */
#ifndef MOAT_PROVIDERS_TESTING_TESTING_H
#define MOAT_PROVIDERS_TESTING_TESTING_H

#include "providers.h"

/*
 * testing_syscall_tool - the `syscall` tool (testing_syscall.c): makes the
 * system call args.name names with harmless arguments and answers with the
 * result and errno, for the seccomp attack tests. Thread-safe; refuses to
 * run unless a seccomp filter is in force.
 */
enum moat_rc testing_syscall_tool(struct call_ctx *ctx, void *data, json_t *args,
				  struct tool_result *out, struct moat_err *err);

#endif
