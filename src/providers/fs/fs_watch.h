/*
 * fs_watch.h - changes to files under the roots, for resource
 * subscriptions: resource_ops.watch of the fs family (fs_watch.c).
 */
#ifndef MOAT_PROVIDERS_FS_FS_WATCH_H
#define MOAT_PROVIDERS_FS_FS_WATCH_H

#include <stdbool.h>
#include <stddef.h>

#include "result.h"

struct fs;
struct hub;
struct fs_watcher; /* opaque */

/* fs_watcher_new - a watcher for fs's files (borrowed, outlives it) that
 * publishes on hub (borrowed, outlives it), holding at most max watches
 * (fs.max_watches). Starts no thread and opens nothing yet: that waits
 * for the first watch, after the sandbox. NULL on ENOMEM. */
struct fs_watcher *fs_watcher_new(struct fs *fs, struct hub *hub, size_t max);

/* fs_watcher_free - stop the thread, drop every watch, free. NULL ok. */
void fs_watcher_free(struct fs_watcher *w);

/*
 * fs_watch_resource - resource_ops.watch for file:// URIs (data: the
 * struct fs, whose watcher field is used). on: resolve the URI's path
 * under its root with the family's confined open (a symlink leaving the
 * root fails as it would for a read) and watch the file it names;
 * MOAT_ENOTFOUND (rule resources.not_subscribable) for a URI that is not
 * file:// or a file that does not exist or is not regular, MOAT_EDENIED
 * outside the roots, MOAT_ELIMIT (rule limits.watches) past
 * fs.max_watches. off: forget the URI. Thread-safe.
 */
enum moat_rc fs_watch_resource(void *data, const char *uri, bool on, struct moat_err *err);

#endif
