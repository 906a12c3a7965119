/*
 * import_grouped.h - the --grouped form of an imported section: its
 * operations under "operations" instead of "tools" (the same objects),
 * which the http family serves through NAME_operations (search),
 * NAME_operation_schema, NAME_call (reads) and, when some operation
 * writes, NAME_call_write. For an API too large to list as tools.
 *
 * Pure; thread-safe.
 */
#ifndef MOAT_IMPORT_IMPORT_GROUPED_H
#define MOAT_IMPORT_IMPORT_GROUPED_H

#include <jansson.h>
#include <stddef.h>

#include "result.h"

/* Operations a grouped section may hold. */
#define IMPORT_GROUPED_MAX 2000

/*
 * import_grouped_put - set section's "operations" to items (a JSON array
 * of operation objects, borrowed) and add to notes the line saying which
 * tools the model will see for API api. Returns MOAT_OK or MOAT_ENOMEM
 * (err filled).
 */
enum moat_rc import_grouped_put(json_t *section, json_t *items, const char *api, json_t *notes,
				struct moat_err *err);

#endif
