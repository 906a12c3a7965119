/*
 * fuzz_framing.c - libFuzzer target for src/core/framing.c.
 *
 * The first byte picks a chunk size; the rest is pushed in chunks and
 * drained after each push. Checks: every line returned is within the bound
 * and holds no '\n'; the buffer never grows past the bound plus one chunk.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "framing.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct frame_reader fr;
	size_t chunk, max = 64;

	if (size < 1)
		return 0;
	chunk = (size_t)data[0] % 37 + 1;
	data++;
	size--;
	frame_init(&fr, max);
	for (size_t off = 0; off < size; off += chunk) {
		size_t n = size - off < chunk ? size - off : chunk;
		const char *line;
		size_t len;
		enum frame_status st;

		if (!frame_push(&fr, (const char *)data + off, n))
			abort();
		while ((st = frame_next(&fr, &line, &len)) != FRAME_NONE) {
			if (st == FRAME_LINE && (len == 0 || len > max || memchr(line, '\n', len)))
				abort();
		}
		if (fr.len - fr.start > max + 1 + chunk)
			abort();
	}
	frame_free(&fr);
	return 0;
}
