/*
 * thread.h - threads of the daemon's own: started with every signal
 * blocked, as signals belong to the daemon's main thread.
 */
#ifndef EXECFS_THREAD_H
#define EXECFS_THREAD_H

#include <pthread.h>

/**
 * thread_start() - pthread_create() of @fn(@arg) with attributes @a (NULL:
 * the defaults), every signal blocked in the new thread; the caller's
 * mask is as it was.
 * Return: 0; pthread_create()'s error number (positive).
 */
int thread_start(pthread_t *t, const pthread_attr_t *a, void *(*fn)(void *),
		 void *arg);

#endif
