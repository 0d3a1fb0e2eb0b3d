/*
 * duration.h - the Serverless Workflow DSL's durations: an ISO 8601
 * duration text ("PT1.5S", "P1DT2H", "PT250MS" is not one) or a map of
 * whole numbers {days, hours, minutes, seconds, milliseconds}, at least
 * one of them given.  Years, months and weeks are refused (their length
 * varies); a duration is at most DURATION_MAX_MS.
 */
#ifndef EXECFS_DURATION_H
#define EXECFS_DURATION_H

#include <stdint.h>

#include "doc.h"

#define DURATION_MAX_MS (7LL * 86400 * 1000) /* a week */

/**
 * duration_ms() - @v (a string or a map) in milliseconds.
 * Return: 0 and *ms; -EINVAL with *why (a static text: what is wrong).
 */
int duration_ms(const struct doc *v, int64_t *ms, const char **why);

#endif
