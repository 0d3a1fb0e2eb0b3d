/*
 * limits.c - the seed values of the limits of DESIGN 1.1, in a file of
 * their own so option parsing (and its tests) can use them without the
 * rest of the plane.
 */
#include <string.h>

#include "plane.h"

void plane_limits_default(struct plane_limits *l)
{
	memset(l, 0, sizeof(*l));
	l->workflow_timeout = 300;
	l->max_parallel = 10;
	l->max_loop_iterations = 100;
	l->max_total_operations = 1000;
	l->max_loop_depth = 10;
	l->log_limit = 8u << 20;
	l->context_ttl = 86400;
	l->store_max = (uint64_t)64 << 30;
	l->audit_limit = 16u << 20;
}
