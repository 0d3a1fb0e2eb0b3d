/*
 * latewrite PATH TEXT: write TEXT to PATH after the file's last close, so
 * that the daemon sees the bytes only at FUSE_RELEASE, a request that
 * carries no credentials.  The file is opened, registered with an io_uring
 * as a fixed file and closed (a flush with nothing to commit); TEXT is
 * then written through the ring, and dropping the ring releases the file.
 * Exit 0 when every step worked, 2 when io_uring is not available here,
 * 1 otherwise.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/io_uring.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

static int fail(const char *what)
{
	fprintf(stderr, "latewrite: %s: %s\n", what, strerror(errno));
	return 1;
}

/* One IORING_OP_WRITE of @text on fixed file 0, waited for. */
static int ring_write(int ring, const struct io_uring_params *p,
		      const char *text)
{
	size_t sq_len = p->sq_off.array + p->sq_entries * sizeof(unsigned);
	size_t cq_len = p->cq_off.cqes +
			p->cq_entries * sizeof(struct io_uring_cqe);
	char *sq = mmap(NULL, sq_len, PROT_READ | PROT_WRITE, MAP_SHARED,
			ring, IORING_OFF_SQ_RING);
	char *cq = mmap(NULL, cq_len, PROT_READ | PROT_WRITE, MAP_SHARED,
			ring, IORING_OFF_CQ_RING);
	struct io_uring_sqe *sqes = mmap(NULL, p->sq_entries * sizeof(*sqes),
					 PROT_READ | PROT_WRITE, MAP_SHARED,
					 ring, IORING_OFF_SQES);
	unsigned *tail = (unsigned *)(sq + p->sq_off.tail);
	struct io_uring_cqe *cqe;

	if (sq == MAP_FAILED || cq == MAP_FAILED || sqes == MAP_FAILED)
		return fail("mmap");
	memset(&sqes[0], 0, sizeof(sqes[0]));
	sqes[0].opcode = IORING_OP_WRITE;
	sqes[0].flags = IOSQE_FIXED_FILE;
	sqes[0].fd = 0;
	sqes[0].addr = (unsigned long)text;
	sqes[0].len = (unsigned)strlen(text);
	((unsigned *)(sq + p->sq_off.array))[*tail & (p->sq_entries - 1)] = 0;
	__atomic_store_n(tail, *tail + 1, __ATOMIC_RELEASE);
	if (syscall(__NR_io_uring_enter, ring, 1, 1, IORING_ENTER_GETEVENTS,
		    NULL, 0) < 0)
		return fail("io_uring_enter");
	cqe = (struct io_uring_cqe *)(cq + p->cq_off.cqes);
	if (cqe[0].res != (int)strlen(text)) {
		errno = cqe[0].res < 0 ? -cqe[0].res : EIO;
		return fail("write");
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct io_uring_params p;
	int fd, ring;

	if (argc != 3)
		return 1;
	memset(&p, 0, sizeof(p));
	ring = (int)syscall(__NR_io_uring_setup, 4, &p);
	if (ring < 0)
		return fail("io_uring_setup") + 1;
	fd = open(argv[1], O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		return fail("open");
	if (syscall(__NR_io_uring_register, ring, IORING_REGISTER_FILES, &fd,
		    1) < 0)
		return fail("register");
	if (close(fd) < 0)
		return fail("close");
	if (ring_write(ring, &p, argv[2]))
		return 1;
	close(ring);	/* the last reference: FUSE_RELEASE */
	return 0;
}
