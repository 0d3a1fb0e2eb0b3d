/*
 * thread.c - threads started with every signal blocked (thread.h).
 */
#include "thread.h"

#include <signal.h>

int thread_start(pthread_t *t, const pthread_attr_t *a, void *(*fn)(void *),
		 void *arg)
{
	sigset_t all, old;
	int rc;

	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(t, a, fn, arg);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return rc;
}
