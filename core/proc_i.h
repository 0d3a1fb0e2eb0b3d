/*
 * proc_i.h - inside core/proc*.c: the keeper process every task program
 * is forked from (core/keeper.c, its wire in core/keeper.h).
 */
#ifndef EXECFS_PROC_I_H
#define EXECFS_PROC_I_H

#include <stddef.h>

#include "err.h"
#include "keeper.h"
#include "proc.h"

/**
 * proc_keeper_send() - send one task's request and its @n descriptors
 * (enum keeper_fd order) to the keeper, starting it first when there is
 * none (or it died, or it is a parent's, inherited through fork).
 * Return: 0; -errno with a message (no keeper to be found or started, the
 *   request refused by the kernel).
 */
int proc_keeper_send(const struct keeper_req *q, const int *fds, size_t n,
		     struct err *e);

#endif
