/*
 * keeper.h - what the daemon (core/proc.c) and execfs-keeper
 * (core/keeper.c) say to each other.
 *
 * The keeper is started once, with the request socket (SOCK_SEQPACKET)
 * on KEEPER_CTL_FD.  A task is one message on it: a struct keeper_req and
 * its descriptors (SCM_RIGHTS) in the order of enum keeper_fd, the gate
 * last and only when KEEPER_GATED says so.  Everything after that goes
 * through the task's own socket (KEEPER_FD_TASK), as host-order int32s:
 * the keeper sends the program's pid (or -errno when it could not fork),
 * then, once the program ended and its group was killed, its wait status;
 * then it closes the socket.  The daemon sends a signal number to signal
 * the group; closing its end kills the group.
 */
#ifndef EXECFS_KEEPER_H
#define EXECFS_KEEPER_H

#include <stdint.h>

#define KEEPER_CTL_FD 3
#define KEEPER_MAGIC 0x6578666bu	/* "exfk" */
#define KEEPER_AS_USER 1u	/* switch to uid, gid and the groups */
#define KEEPER_GATED 2u		/* run the program after a byte on the gate */
#define KEEPER_GROUPS_MAX (1u << 20)	/* more than the kernel takes */
#define KEEPER_DATA_MAX (64u << 20)	/* far more than execve takes */

enum keeper_fd {
	KEEPER_FD_TASK,		/* the task's socket (SOCK_SEQPACKET) */
	KEEPER_FD_IN,		/* the program's stdin */
	KEEPER_FD_OUT,		/* its stdout, the write end of a pipe */
	KEEPER_FD_ERR,		/* its stderr, likewise */
	KEEPER_FD_CWD,		/* its working directory (O_PATH) */
	KEEPER_FD_DATA,		/* a memory file: ngroups gids, then
				   NUL-terminated strings: the program's
				   absolute path, nargs of argv, nenv of
				   envp */
	KEEPER_FD_GATE,		/* with KEEPER_GATED: a socket; a byte on it
				   lets the program run, EOF never */
	KEEPER_NFDS
};

struct keeper_req {
	uint32_t magic;
	uint32_t flags;
	uint32_t uid;
	uint32_t gid;
	uint64_t ngroups;
	uint64_t nargs;
	uint64_t nenv;
};

#endif
