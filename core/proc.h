/*
 * proc.h - one task process: spawned in its own process group with a clean
 * environment, its stdout and stderr on two pipes, ended as a group.
 *
 * The daemon starts one small keeper program (execfs-keeper,
 * core/keeper.c) with posix_spawn at the first task, in a session of its
 * own, with an empty environment, as the daemon's user; every program is
 * forked from it.  Forking that small process is cheap and the daemon is
 * never copied.  Each program leads a session of its own (a new process
 * group, no controlling terminal), starts with default dispositions, an
 * empty signal mask and fds 0-2 alone (stdin: a memory file or
 * /dev/null), and gets its argv and environment through a memory file
 * that only its own process reads (never a command line, which every
 * local user can read).  When the program ends the keeper kills what is
 * left of its group with SIGKILL before it reaps it (the group id cannot
 * be reused until then), and reports its status.  When the daemon dies,
 * even by SIGKILL, the keeper sees its request socket close, kills every
 * group and exits: no task process outlives the daemon.  Should the
 * keeper itself be killed, every program gets SIGKILL (its parent-death
 * signal); what a program started in the background then survives.  A
 * process that leaves its group (setsid, setpgid) escapes.
 *
 * The keeper is found next to the daemon's binary, else in the installed
 * libexec directory, else in the build tree, and used only when it and
 * its directory are root's (or the daemon's user's) and writable by no
 * one else; it is found and held open once (proc_keeper_find(), which the
 * daemon calls before it mounts: it may be mounted over the keeper's
 * directory) and executed through that fd.  A keeper that died is
 * replaced at the next spawn; a process forked from the daemon (a test's
 * stand-in) starts its own.
 *
 * A spec with as_user makes the program (never the keeper, which stays
 * the daemon's so that it can kill the groups) switch to that user
 * between its fork and execve: supplementary groups, then the real,
 * effective and saved gid, then the uid.  This needs root (CAP_SETUID,
 * CAP_SETGID).
 *
 * Thread rules: a struct proc belongs to the thread that calls
 * proc_wait() and proc_release(); proc_kill() may be called from any
 * thread until proc_wait() has returned (the caller orders the two).  The
 * task does not depend on the thread that spawned it.
 */
#ifndef EXECFS_PROC_H
#define EXECFS_PROC_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "err.h"

struct proc {
	pid_t pid;	/* the program; also its process group id */
	int out_fd;	/* stdout read end, O_NONBLOCK|O_CLOEXEC; -1: EOF */
	int err_fd;	/* read end of stderr, likewise */
	int pid_fd;	/* the task's socket to the keeper: readable once the
			   program ended (or the keeper died) */
};

struct proc_spec {
	const char *path;	/* program, absolute ("/bin/sh") */
	char *const *argv;	/* NULL-terminated */
	char *const *envp;	/* NULL-terminated; the whole environment */
	const char *cwd;	/* working directory; NULL: "/" */
	bool as_user;		/* run the program as uid, gid, groups */
	uid_t uid;
	gid_t gid;		/* real, effective and saved gid */
	const gid_t *groups;	/* supplementary groups, ngroups of them
				   (borrowed; NULL when ngroups is 0) */
	size_t ngroups;
	const char *stdin_data;	/* the program's standard input, stdin_len
				   bytes; NULL: /dev/null */
	size_t stdin_len;
	/* Called once the request is sent and before the program may run
	 * (it waits for the return at a gate, before its execve), so what
	 * it does overlaps the fork: a task's start is committed there.
	 * NULL: none. */
	void (*before)(void *ctx);
	void *before_ctx;
};

/**
 * proc_spawn() - start @s as described above.  *@out is written only on
 * success.
 * Return: 0; -EINVAL when the path is not absolute, argv/envp is
 *   missing, or as_user has ngroups but no groups; -ENOENT, -EACCES,
 *   -ENOTDIR... when the program cannot be executed as far as access(2)
 *   tells (the daemon's access, not as_user's), or the working directory
 *   cannot be opened; -EAGAIN, -EMFILE, -ENFILE, -ENOMEM when out of
 *   resources; -ENOENT when there is no keeper; -EPIPE when the keeper
 *   died with the request; each with a message.  A failure only known after fork
 *   (execve fails, e.g. a script's interpreter is missing or as_user may
 *   not execute the program; the working directory cannot be entered; the
 *   switch to as_user's identity is refused) is reported through
 *   proc_wait() as exit status 127, with a line on the task's stderr:
 *   "execfs: cannot execute <path>: <reason>", "execfs: cannot enter the
 *   working directory: <reason>" or "execfs: cannot switch to uid
 *   <uid>: <reason>".
 */
int proc_spawn(struct proc *out, const struct proc_spec *s, struct err *e);

/**
 * proc_keeper_find() - find execfs-keeper and hold it open, once (later
 * calls return the same).  Return: its path, or NULL when there is none
 * (every proc_spawn() then fails saying so).
 */
const char *proc_keeper_find(void);

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
 * proc_wait() - the program's end (blocking until it ended; poll pid_fd
 * first to avoid that), and close pid_fd.  By then the keeper has killed
 * what was left of the group with SIGKILL (a background process the
 * program left behind), before it reaped the program.  The pipe fds are
 * left open so the caller can drain them; drained pipes reach EOF once
 * every process of the group is gone.
 * @code: the program's exit code (0..255), or 128 + signal number when a
 *   signal killed it.
 * @signaled: true when a signal killed it.
 * Return: 0; -ECHILD when already waited for; -EPIPE when the keeper died
 *   first (how the program ended is unknown: it got SIGKILL).
 */
int proc_wait(struct proc *pr, int *code, bool *signaled);

/** proc_release() - close every fd still open.  A task not waited for
 * has its group killed by the keeper. */
void proc_release(struct proc *pr);

#endif
