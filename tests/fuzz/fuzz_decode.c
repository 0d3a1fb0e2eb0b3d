/*
 * fuzz_decode.c - libFuzzer harness for doc_decode(): records read back
 * from the store must never be trusted, so any byte string has to fail
 * cleanly or decode to a tree that encodes back to the bytes it used.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/doc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf enc = BUF_INIT(64u << 20);
	struct doc *d = NULL, *again = NULL;
	size_t used = 0;

	if (doc_decode(data, size, &d, &used) != 0)
		return 0;
	if (used > size || doc_encode(d, &enc) != 0)
		abort();
	if (doc_decode(enc.data, enc.len, &again, NULL) != 0 ||
	    !doc_equal(d, again))
		abort();
	doc_free(d);
	doc_free(again);
	buf_release(&enc);
	return 0;
}
