/*
 * import_grouped.c - the grouped form of an imported section (see
 * import_grouped.h). Written by hand: moat's own config shape.
 */
#include "import_grouped.h"

#include <stdbool.h>
#include <string.h>

#include "import_op.h"

enum moat_rc import_grouped_put(json_t *section, json_t *items, const char *api, json_t *notes,
				struct moat_err *err)
{
	size_t i, writes = 0, confirm = 0;
	json_t *v;

	json_array_foreach(items, i, v) {
		const char *m = json_string_value(json_object_get(v, "method"));
		if (m && strcmp(m, "GET") != 0 && strcmp(m, "HEAD") != 0)
			writes++;
		if (json_is_true(json_object_get(v, "confirm")))
			confirm++;
	}
	if (json_object_set(section, "operations", items) ||
	    import_note(notes,
			"Grouped: the model sees %s_operations, %s_operation_schema and %s_call "
			"(%zu read operation%s)%s%s%s in front of %zu operations; each call is "
			"checked against its operation's input_schema.",
			api, api, api, json_array_size(items) - writes,
			json_array_size(items) - writes == 1 ? "" : "s", writes ? ", and " : "",
			writes ? api : "", writes ? "_call_write for the writes" : "",
			json_array_size(items)) ||
	    (confirm && import_note(notes,
				    "%zu write operation%s ask%s for confirmation before each call.",
				    confirm, confirm == 1 ? "" : "s", confirm == 1 ? "s" : "")))
		return moat_err_set(err, MOAT_ENOMEM, "out of memory");
	return MOAT_OK;
}
