/*
 * testing.h - what the test-only tool family's files share (compiled only
 * with -Dtest_provider=true). testing.c registers the tools; with
 * {"testing": {"conformance": true}} it also registers the fixtures the
 * official MCP conformance suite expects of a server (the reference is the
 * suite's examples/servers/typescript/everything-server.ts): the tools of
 * testing_conf_tools.c and testing_mrtr.c, the test:// resources of
 * testing_conf_resources.c and the prompts of testing_conf_prompts.c.
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

/* The 1x1 red PNG and the minimal WAV file the fixtures return (base64;
 * the reference fixture's bytes). */
extern const char testing_png_b64[];
extern const char testing_wav_b64[];

/*
 * testing_conf_tools_init - register the conformance tools of
 * testing_conf_tools.c (content blocks, logging, progress, errors, asking
 * the client, the JSON Schema 2020-12 tool, the list-change triggers, the
 * x-mcp-header tool). reg is kept for the triggers. Start-up only.
 */
enum moat_rc testing_conf_tools_init(struct registry *reg, struct moat_err *err);

/* testing_streamed_init - register stream_rows and stream_bad
 * (testing_streamed.c), whose structuredContent is written with jsonw
 * (tool_spec.output_streamed). Start-up only. */
enum moat_rc testing_streamed_init(struct registry *reg, struct moat_err *err);

/* testing_mrtr_init - register the test_input_required_result_* tools
 * (testing_mrtr.c), which ask through callctx_ask. Start-up only. */
enum moat_rc testing_mrtr_init(struct registry *reg, struct moat_err *err);

/*
 * testing_conf_resources_init - serve the test:// resources
 * (testing_conf_resources.c); the first watch of test://watched-resource
 * starts a thread that reports a change of it every few seconds while it
 * is watched.
 * testing_conf_resources_fini stops that thread. Start-up / exit only.
 */
enum moat_rc testing_conf_resources_init(struct registry *reg, struct moat_err *err);
void testing_conf_resources_fini(void);

/* testing_conf_prompts_init - declare the conformance prompts
 * (testing_conf_prompts.c) in registry_prompts(reg). Start-up only. */
enum moat_rc testing_conf_prompts_init(struct registry *reg, struct moat_err *err);

/* testing_prompt_toggle - hide test_dynamic_prompt when shown, show it
 * when hidden, and publish HUB_PROMPTS_CHANGED (testing_conf_prompts.c).
 * Thread-safe. */
void testing_prompt_toggle(struct registry *reg);

#endif
