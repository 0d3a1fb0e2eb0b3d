/*
 * test_duration.c - DSL durations: ISO 8601 texts and unit maps.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "core/duration.h"

static int64_t text_ms(const char *s, int *rc)
{
	struct doc *d = doc_strz(s);
	const char *why = NULL;
	int64_t ms = -1;

	*rc = duration_ms(d, &ms, &why);
	if (*rc)
		assert_non_null(why);
	doc_free(d);
	return ms;
}

static void test_iso(void **state)
{
	static const struct {
		const char *s;
		int64_t ms;
	} ok[] = {{"PT5S", 5000},	  {"PT1.5S", 1500},
		  {"PT0.25S", 250},	  {"P1D", 86400000},
		  {"P1DT2H", 93600000},	  {"PT1H30M", 5400000},
		  {"PT0S", 0},		  {"PT2M3S", 123000},
		  {"PT0.0015S", 1}};
	static const char *const bad[] = {
	    "", "5S", "P", "PT", "P1Y", "P1M", "P1W", "PT1.5M", "PTS", "PT1X",
	    "P1H", "PT-1S", "P8D", "PT99999999999999999999S", "pt5s"};
	size_t i;
	int rc;

	(void)state;
	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		assert_int_equal(text_ms(ok[i].s, &rc), ok[i].ms);
		assert_int_equal(rc, 0);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		text_ms(bad[i], &rc);
		if (rc != -EINVAL)
			fail_msg("%s was accepted", bad[i]);
	}
}

static void test_map(void **state)
{
	struct doc *m = doc_new(DOC_MAP);
	const char *why = NULL;
	int64_t ms = 0;

	(void)state;
	assert_int_equal(duration_ms(m, &ms, &why), -EINVAL); /* empty */
	doc_map_set(m, "seconds", doc_int(3));
	doc_map_set(m, "milliseconds", doc_int(250));
	assert_int_equal(duration_ms(m, &ms, &why), 0);
	assert_int_equal(ms, 3250);
	doc_map_set(m, "minutes", doc_int(1));
	assert_int_equal(duration_ms(m, &ms, &why), 0);
	assert_int_equal(ms, 63250);
	doc_map_set(m, "weeks", doc_int(1));
	assert_int_equal(duration_ms(m, &ms, &why), -EINVAL);
	doc_map_del(m, "weeks");
	doc_map_set(m, "days", doc_int(8));
	assert_int_equal(duration_ms(m, &ms, &why), -EINVAL); /* > a week */
	doc_map_set(m, "days", doc_int(-1));
	assert_int_equal(duration_ms(m, &ms, &why), -EINVAL);
	doc_map_set(m, "days", doc_strz("1"));
	assert_int_equal(duration_ms(m, &ms, &why), -EINVAL);
	doc_free(m);
	assert_int_equal(duration_ms(NULL, &ms, &why), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_iso),
	    cmocka_unit_test(test_map),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
