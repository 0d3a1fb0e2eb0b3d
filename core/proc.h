/*
 * proc.h - one task process: spawned in its own process group with a clean
 * environment, its stdout and stderr on two pipes, ended as a group.
 *
 * The daemon starts a small keeper program (execfs-keeper, core/keeper.c)
 * with posix_spawn, in a session of its own (a new process group, no
 * controlling terminal).  The keeper asks the kernel to signal it when the
 * spawning thread dies (PR_SET_PDEATHSIG with SIGRTMIN, a signal it
 * catches) and forks the task's program (execve) in that group.
 * proc_spawn() returns once the death signal is armed.  The keeper waits
 * for the program and exits with the same status (a program killed by a
 * signal makes the keeper die of that signal).  If the daemon dies, even
 * by SIGKILL, or the thread that called proc_spawn() ends, the keeper
 * kills the whole group with SIGKILL and exits: no task process outlives
 * the daemon.  The keeper ignores SIGHUP, SIGINT, SIGQUIT, SIGTERM,
 * SIGPIPE, SIGUSR1 and SIGUSR2 so that a group-wide signal reaches the
 * program while the keeper stays to report its status.  A process that
 * leaves the group (setsid, setpgid) escapes.
 *
 * posix_spawn shares the daemon's memory only until the keeper's exec
 * (a vfork-style clone): no copy of the daemon's page tables, no
 * copy-on-write faults, whatever the daemon's size.  The daemon's signal
 * handlers never run in the child (every disposition is reset to default,
 * every signal blocked until the keeper has armed); the program starts
 * with default dispositions and an empty signal mask.  Only stdin (a
 * memory file or /dev/null), the two pipe ends (1 and 2), the "armed"
 * pipe (3) and the supplementary groups (4, a memory file) reach the
 * keeper (every other fd is closed by the spawn), and the program gets
 * 0-2 alone.  The keeper runs with an empty environment (the program's
 * comes as arguments): nothing of the task's (LD_PRELOAD, GLIBC_TUNABLES)
 * reaches the root process.  It is found next to the daemon's binary,
 * else in the installed libexec directory, else in the build tree, and
 * used only when it and its directory are root's (or the daemon's user's)
 * and writable by no one else; it is found and held open once
 * (proc_keeper_find(), which the daemon calls before it mounts: it may be
 * mounted over the keeper's directory) and executed through that fd.  The keeper forks the program before it
 * tells the daemon it is armed, so a signal sent to the group as soon as
 * proc_spawn() returns reaches the program.
 *
 * A spec with as_user makes the program (never the keeper, which stays
 * the daemon's so that it can kill the group when the daemon dies) switch
 * to that user between the keeper's fork and execve: supplementary
 * groups, then the real, effective and saved gid, then the uid.  This
 * needs root (CAP_SETUID, CAP_SETGID).
 *
 * The daemon must not ignore SIGCHLD nor set SA_NOCLDWAIT: the keepers
 * would be reaped by the kernel and proc_wait() could not report them.
 *
 * Thread rules: a struct proc belongs to one thread, the one that called
 * proc_spawn(), which must stay alive until proc_wait() returned (the
 * death signal is tied to it: when that thread ends, the task is killed).
 * proc_kill() may be called from any thread, but not once proc_wait() has
 * returned (the group id may then be reused): the caller orders the two.
 */
#ifndef EXECFS_PROC_H
#define EXECFS_PROC_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "err.h"

struct proc {
	pid_t pid;	/* the keeper; also the process group id */
	int out_fd;	/* stdout read end, O_NONBLOCK|O_CLOEXEC; -1: EOF */
	int err_fd;	/* read end of stderr, likewise */
	int pid_fd;	/* pidfd of the keeper: readable when it exited */
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
	/* Called once the keeper is started and before the program may
	 * run (it waits for the return at a gate, before its execve), so
	 * what it does overlaps the keeper's start: a task's start is
	 * committed there.  NULL: none. */
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
 *   resources; each with a message.  A failure only known after fork
 *   (execve fails, e.g. a script's interpreter is missing or as_user may
 *   not execute the program; the working directory cannot be entered; the
 *   switch to as_user's identity is refused) is reported through
 *   proc_wait() as exit status 127, with a line on the task's stderr:
 *   "execfs: cannot execute <path>: <reason>", "execfs: cannot enter the
 *   working directory <dir>: <reason>" or "execfs: cannot switch to uid
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
 * proc_wait() - reap the keeper (blocking if it has not exited; poll
 * pid_fd first to avoid that), close pid_fd, and kill what is left of the
 * group with SIGKILL (a background process the program left behind); the
 * kill comes before the reaping, while the group id cannot be reused.
 * The pipe fds are left open so the caller can drain them; drained pipes
 * reach EOF once every process of the group is gone.
 * @code: the program's exit code (0..255), or 128 + signal number when a
 *   signal killed it.
 * @signaled: true when a signal killed it (the keeper died of the same
 *   signal).  Should the keeper survive re-raising the signal (it should
 *   not), it exits with 128 + signal: then @code is the same but
 *   @signaled is false.
 * Return: 0; -ECHILD when it was already reaped.
 */
int proc_wait(struct proc *pr, int *code, bool *signaled);

/** proc_release() - close every fd still open.  Does not kill or reap. */
void proc_release(struct proc *pr);

#endif
