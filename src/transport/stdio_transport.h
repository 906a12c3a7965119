/*
 * stdio_transport.h - the stdio transport: newline-delimited JSON-RPC on fds 0 and 1.
 *
 * One reader (this thread) frames input and hands each message to the
 * server; one writer, serialized by a mutex, writes each outgoing message
 * whole followed by '\n'. EOF on input, SIGTERM or SIGINT cancel the calls
 * in flight and return within about a second.
 */
#ifndef MOAT_TRANSPORT_STDIO_TRANSPORT_H
#define MOAT_TRANSPORT_STDIO_TRANSPORT_H

#include "registry.h"
#include "server.h"

/*
 * stdio_serve - serve reg over in_fd/out_fd with opts until EOF or a
 * termination signal. Blocks SIGTERM/SIGINT for the calling thread (call it
 * before any other thread exists). Returns 0 on a clean end, -1 when a
 * setup step failed (logged), 1 when a tool call ignored cancellation past
 * the shutdown grace period: nothing was freed and the caller must end the
 * process (_exit) without tearing down the registry.
 */
int stdio_serve(int in_fd, int out_fd, const struct server_opts *opts, struct registry *reg);

#endif
