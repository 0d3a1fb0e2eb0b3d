/*
 * thread.h - threads of the daemon's own: started with every signal
 * blocked, as signals belong to the daemon's main thread.
 */
#ifndef EXECFS_THREAD_H
#define EXECFS_THREAD_H

#include <pthread.h>
#include <time.h>

/**
 * thread_start() - pthread_create() of @fn(@arg) with attributes @a (NULL:
 * the defaults), every signal blocked in the new thread; the caller's
 * mask is as it was.
 * Return: 0; pthread_create()'s error number (positive).
 */
int thread_start(pthread_t *t, const pthread_attr_t *a, void *(*fn)(void *),
		 void *arg);

/**
 * thread_cond_init_mono() - pthread_cond_init() of a condition whose timed
 * waits take CLOCK_MONOTONIC deadlines (immune to clock changes).
 * Return: 0; the error number of pthread (positive).
 */
int thread_cond_init_mono(pthread_cond_t *c);

/** thread_deadline_ms() - *@ts: @ms from now on CLOCK_MONOTONIC, for a
 * timed wait on a thread_cond_init_mono() condition. */
void thread_deadline_ms(struct timespec *ts, long ms);

#endif
