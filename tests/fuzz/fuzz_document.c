/*
 * fuzz_document.c - libFuzzer harness over the path every written
 * document takes: yaml_parse(), then model_normalize() for each kind, then
 * the store encoding and both emitters.  Properties checked beyond "no
 * crash, no leak, no UB": an accepted resource survives doc_encode() /
 * doc_decode() unchanged, and its YAML and JSON renderings parse back.
 */
#include <stdint.h>
#include <stdlib.h>

#include "core/doc.h"
#include "core/model.h"
#include "core/yaml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Re-parsing what we emitted: aliases are expanded by then, so the text
 * may be far larger than the input; the limits are not the property. */
static const struct yaml_limits loose = {
	64u << 20, 64, 1u << 20, 1u << 20, 1u << 24, 0,
};

static void check_roundtrip(const struct doc *res)
{
	struct buf enc = BUF_INIT(64u << 20), text = BUF_INIT(64u << 20);
	struct doc *back = NULL, *again = NULL;
	struct err e;

	if (doc_encode(res, &enc) == 0) {
		if (doc_decode(enc.data, enc.len, &back, NULL) != 0 ||
		    !doc_equal(res, back))
			abort();
	}
	if (yaml_emit(res, &text) == 0 &&
	    yaml_parse(text.data, text.len, &loose, &again, &e) != 0)
		abort();
	doc_free(again);
	again = NULL;
	buf_reset(&text);
	if (json_emit(res, &text, 0) == 0 &&
	    yaml_parse(text.data, text.len, &loose, &again, &e) != 0)
		abort();
	doc_free(again);
	doc_free(back);
	buf_release(&enc);
	buf_release(&text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct doc *in = NULL, *res;
	struct err e;
	int k;

	if (yaml_parse((const char *)data, size, NULL, &in, &e) != 0)
		return 0;
	for (k = 0; k < KIND_COUNT; k++) {
		res = NULL;
		if (model_normalize(model_kind((enum kind_id)k), in, "fuzz",
				    &res, &e) == 0)
			check_roundtrip(res);
		doc_free(res);
	}
	doc_free(in);
	return 0;
}
