/*
 * proc.h - one task process: spawned in its own process group with a clean
 * environment, its stdout and stderr on two pipes, ended as a group.
 *
 * The daemon forks a small keeper process, which makes a new process group,
 * asks the kernel to signal it when the forking thread dies
 * (PR_SET_PDEATHSIG), and forks the task's program (execve) in that group.
 * The keeper waits for the program and exits with the same status (a
 * program killed by a signal makes the keeper report that signal).  If the
 * daemon dies, even by SIGKILL, the keeper kills the whole group with
 * SIGKILL and exits: no task process outlives the daemon.  The keeper
 * ignores SIGTERM and SIGINT so that a group-wide SIGTERM reaches the
 * program while the keeper stays to report its status.
 *
 * Between fork and execve only async-signal-safe calls are made; argv and
 * envp are built before fork.  Every descriptor the daemon holds is closed
 * in the child (close_range / a loop), except the two pipe ends moved to 1
 * and 2; stdin is /dev/null.
 *
 * Thread rules: a struct proc belongs to one thread, the one that called
 * proc_spawn(), which must stay alive until proc_wait() returned (the
 * death signal is tied to it).  proc_kill() may be called from any thread.
 */
#ifndef EXECFS_PROC_H
#define EXECFS_PROC_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "err.h"

struct proc {
	pid_t pid;	/* the keeper; also the process group id */
	int out_fd;	/* read end of stdout, O_NONBLOCK|O_CLOEXEC; -1 at EOF */
	int err_fd;	/* read end of stderr, likewise */
	int pid_fd;	/* pidfd of the keeper: readable when it exited */
};

struct proc_spec {
	const char *path;	/* program, absolute ("/bin/sh") */
	char *const *argv;	/* NULL-terminated */
	char *const *envp;	/* NULL-terminated; the whole environment */
	const char *cwd;	/* working directory; NULL: "/" */
};

/**
 * proc_spawn() - start @s as described above.
 * Return: 0 and *out; -ENOENT or -EACCES when the program cannot be
 *   executed (the keeper reports exit status 127, and this is reported
 *   through proc_wait() instead when it is only known after fork);
 *   -EAGAIN, -EMFILE, -ENOMEM with a message.
 */
int proc_spawn(struct proc *out, const struct proc_spec *s, struct err *e);

/**
 * proc_kill() - send @sig to every process of @pr's group.  A group that is
 * already gone is not an error.  Return: 0 or -errno from kill(2) other
 * than ESRCH.
 */
int proc_kill(const struct proc *pr, int sig);

/**
 * proc_read() - read what is available on @fd (out_fd or err_fd) into
 * @buf (@cap bytes).  Return: bytes read (> 0); 0 at EOF (the caller then
 * closes the fd and sets it to -1 with proc_close_fd()); -EAGAIN when
 * nothing is available; -errno.
 */
ssize_t proc_read(int fd, void *buf, size_t cap);

/** proc_close_fd() - close *@fd if open and set it to -1. */
void proc_close_fd(int *fd);

/**
 * proc_wait() - reap the keeper (blocking if it has not exited; poll
 * pid_fd first to avoid that), close pid_fd, and kill what is left of the
 * group with SIGKILL (a background process the program left behind).
 * The pipe fds are left open so the caller can drain them; drained pipes
 * reach EOF once every process of the group is gone.
 * @code: the program's exit code (0..255), or 128 + signal number when a
 *   signal killed it.
 * @signaled: true when a signal killed it.
 * Return: 0; -ECHILD when it was already reaped.
 */
int proc_wait(struct proc *pr, int *code, bool *signaled);

/** proc_release() - close every fd still open.  Does not kill or reap. */
void proc_release(struct proc *pr);

#endif
