/*
 * vifd-netlink: a dumb pipe between stdin/stdout and a NETLINK_ROUTE socket.
 *
 * All protocol logic (building RTM_SETLINK/RTM_GETLINK, decoding replies and
 * link notifications) lives in TypeScript (src/host/portprofile/qbh-message.ts,
 * src/host/netlink/); this helper only does what Node cannot: open a netlink
 * socket (and /dev/net/tun), optionally inside a named network namespace.
 *
 * Two modes.
 *
 * One-shot: vifd-netlink [--netns NAME] [--pid PORTID] [--timeout-ms N]
 *
 * stdin:  one or more complete netlink messages, back to back (each starts
 *         with its own nlmsghdr, so nlmsg_len delimits them).
 * stdout: for each request, in order, every reply message the peer sent with
 *         the request's sequence number, raw, up to and including the
 *         terminating NLMSG_ERROR (error or ack) or NLMSG_DONE.
 *         Requests should carry NLM_F_ACK so that every request terminates.
 * --pid:  destination port id (default 0 = the kernel; lldpad listens on its
 *         own port id, the way libvirt talks to it).
 *
 * Stream: vifd-netlink --stream [--netns NAME] [--rcvbuf BYTES]
 *
 * Long-lived: one NETLINK_ROUTE socket bound to RTNLGRP_LINK (receive buffer
 * BYTES, default 32 MiB, through SO_RCVBUFFORCE, else SO_RCVBUF), multiplexed
 * over stdin/stdout in frames. Every frame, both ways, is
 *
 *     u32 type, u32 length of the payload, payload (padded to 4 bytes)
 *
 * in host byte order (netlink's own). Exits 0 when stdin closes.
 *
 * stdin (vifd -> helper):
 *   1 SEND        one or more complete netlink messages; each is sent to the
 *                 kernel (port id 0) with its own sendto, in order.
 *   2 CREATE_TAP  u32 flags (bit 0: multi_queue), i32 uid (-1: none),
 *                 i32 gid (-1: none), then the name (1-15 bytes, no NUL).
 *                 Done as `ip tuntap add dev NAME mode tap [multi_queue]
 *                 [user U] [group G]` does (iproute2 ip/iptuntap.c): open
 *                 /dev/net/tun, TUNSETIFF with IFF_TAP|IFF_NO_PI|IFF_TUN_EXCL
 *                 [|IFF_MULTI_QUEUE] (EXCL: an existing name fails, EEXIST
 *                 or EBUSY), TUNSETOWNER, TUNSETGROUP, TUNSETPERSIST 1, close.
 * stdout (helper -> vifd):
 *   1 UNICAST     one datagram the socket received from the kernel addressed
 *                 to this socket alone (replies: data, NLMSG_ERROR, NLMSG_DONE)
 *   2 MULTICAST   one datagram delivered to the link group (notifications);
 *                 the kernel may stamp the seq of the request that caused it,
 *                 so only this frame type tells a notification from a reply
 *   3 ENOBUFS     empty: the socket overran, the kernel dropped messages
 *                 (notifications, possibly acks); never fatal
 *   4 TAP_RESULT  i32 errno of the CREATE_TAP before it (0: created); one
 *                 per CREATE_TAP, in order
 *   5 SEND_FAILED i32 errno, u32 nlmsg_seq: sendto refused that message
 *   6 READY       u32 receive buffer size granted: socket bound, netns entered
 * UNICAST and MULTICAST frames keep the socket's order.
 *
 * exit codes: 0 ok, 2 usage/bad input, 3 netns, 4 socket/io, 5 timeout.
 * Diagnostics go to stderr as "vifd-netlink: <what>: <strerror> (errno N)".
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <poll.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

static int fail(int code, const char *what, int err)
{
	fprintf(stderr, "vifd-netlink: %s: %s (errno %d)\n", what, strerror(err), err);
	return code;
}

static int valid_netns_name(const char *n)
{
	size_t len = strlen(n);
	if (len == 0 || len > 200 || strcmp(n, ".") == 0 || strcmp(n, "..") == 0)
		return 0;
	return strchr(n, '/') == NULL;
}

static unsigned char *read_all(int fd, size_t *out_len)
{
	size_t cap = 4096, len = 0;
	unsigned char *buf = malloc(cap);
	if (!buf)
		return NULL;
	for (;;) {
		if (len == cap) {
			unsigned char *nb = realloc(buf, cap *= 2);
			if (!nb) { free(buf); return NULL; }
			buf = nb;
		}
		ssize_t n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) { free(buf); return NULL; }
		if (n == 0)
			break;
		len += (size_t)n;
	}
	*out_len = len;
	return buf;
}

static int write_all(const unsigned char *p, size_t len)
{
	while (len > 0) {
		ssize_t n = write(STDOUT_FILENO, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}


/* --- stream mode ------------------------------------------------------- */

enum { IN_SEND = 1, IN_CREATE_TAP = 2 };
enum { OUT_UNICAST = 1, OUT_MULTICAST = 2, OUT_ENOBUFS = 3, OUT_TAP_RESULT = 4, OUT_SEND_FAILED = 5, OUT_READY = 6 };
#define FRAME_HDR 8
#define MAX_FRAME (16u << 20)

static int write_frame(uint32_t type, const void *payload, uint32_t len)
{
	static const unsigned char pad[4];
	uint32_t hdr[2] = { type, len };
	if (write_all((const unsigned char *)hdr, sizeof(hdr)) < 0)
		return -1;
	if (len && write_all(payload, len) < 0)
		return -1;
	return write_all(pad, (4 - (len & 3)) & 3);
}

/* As ip tuntap add (ip/iptuntap.c tap_add_ioctl); returns 0 or an errno. */
static int create_tap(const char *name, int multi_queue, int32_t uid, int32_t gid)
{
	struct ifreq ifr;
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_TUN_EXCL | (multi_queue ? IFF_MULTI_QUEUE : 0);
	memcpy(ifr.ifr_name, name, strlen(name));
	int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return errno;
	int err = 0;
	if (ioctl(fd, TUNSETIFF, &ifr) < 0 ||
	    (uid != -1 && ioctl(fd, TUNSETOWNER, (unsigned long)uid) < 0) ||
	    (gid != -1 && ioctl(fd, TUNSETGROUP, (unsigned long)gid) < 0) ||
	    ioctl(fd, TUNSETPERSIST, 1UL) < 0)
		err = errno;
	close(fd);
	return err;
}

static int handle_frame(int fd, uint32_t type, const unsigned char *p, uint32_t len)
{
	if (type == IN_SEND) {
		struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
		uint32_t off = 0;
		while (off < len) {
			const struct nlmsghdr *req = (const struct nlmsghdr *)(p + off);
			if (len - off < sizeof(*req) || req->nlmsg_len < sizeof(*req) || req->nlmsg_len > len - off)
				return fail(2, "truncated netlink message in a SEND frame", EINVAL);
			if (sendto(fd, req, req->nlmsg_len, 0, (struct sockaddr *)&kernel, sizeof(kernel)) < 0) {
				int32_t out[2] = { errno, (int32_t)req->nlmsg_seq };
				if (write_frame(OUT_SEND_FAILED, out, sizeof(out)) < 0)
					return fail(4, "write stdout", errno);
			}
			off += NLMSG_ALIGN(req->nlmsg_len);
		}
		return 0;
	}
	if (type == IN_CREATE_TAP) {
		if (len < 13 || len > 12 + IFNAMSIZ - 1)
			return fail(2, "bad CREATE_TAP frame", EINVAL);
		uint32_t flags;
		int32_t uid, gid;
		char name[IFNAMSIZ] = { 0 };
		memcpy(&flags, p, 4);
		memcpy(&uid, p + 4, 4);
		memcpy(&gid, p + 8, 4);
		memcpy(name, p + 12, len - 12);
		if (memchr(name, 0, len - 12))
			return fail(2, "NUL in a CREATE_TAP name", EINVAL);
		int32_t err = create_tap(name, flags & 1, uid, gid);
		if (write_frame(OUT_TAP_RESULT, &err, sizeof(err)) < 0)
			return fail(4, "write stdout", errno);
		return 0;
	}
	return fail(2, "unknown frame type on stdin", EINVAL);
}

/* Reads one datagram and forwards it, telling a notification (delivered to a
 * multicast group) from a reply (addressed to this socket alone). */
static int forward_datagram(int fd, unsigned char **buf, size_t *cap)
{
	ssize_t want = recv(fd, NULL, 0, MSG_PEEK | MSG_TRUNC | MSG_DONTWAIT);
	if (want < 0) {
		if (errno == ENOBUFS)
			return write_frame(OUT_ENOBUFS, NULL, 0) < 0 ? fail(4, "write stdout", errno) : 0;
		if (errno == EINTR || errno == EAGAIN)
			return 0;
		return fail(4, "recv", errno);
	}
	if ((size_t)want > *cap) {
		unsigned char *nb = realloc(*buf, (size_t)want);
		if (!nb)
			return fail(4, "malloc", ENOMEM);
		*buf = nb;
		*cap = (size_t)want;
	}
	struct sockaddr_nl from;
	/* Exactly the datagram: the kernel sizes later dump chunks by the
	 * largest read buffer seen, and chunks must stay well below a small
	 * receive buffer, or they crowd out every ack and notification. */
	struct iovec iov = { .iov_base = *buf, .iov_len = (size_t)want };
	struct msghdr msg = { .msg_name = &from, .msg_namelen = sizeof(from), .msg_iov = &iov, .msg_iovlen = 1 };
	ssize_t n = recvmsg(fd, &msg, MSG_DONTWAIT);
	if (n < 0) {
		if (errno == ENOBUFS)
			return write_frame(OUT_ENOBUFS, NULL, 0) < 0 ? fail(4, "write stdout", errno) : 0;
		if (errno == EINTR || errno == EAGAIN)
			return 0;
		return fail(4, "recvmsg", errno);
	}
	if (write_frame(from.nl_groups ? OUT_MULTICAST : OUT_UNICAST, *buf, (uint32_t)n) < 0)
		return fail(4, "write stdout", errno);
	return 0;
}

static int run_stream(unsigned long rcvbuf)
{
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0)
		return fail(4, "socket", errno);
	int size = (int)rcvbuf;
	/* FORCE passes rmem_max (needs CAP_NET_ADMIN); plain RCVBUF is capped by it. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	struct sockaddr_nl local = { .nl_family = AF_NETLINK, .nl_groups = 1u << (RTNLGRP_LINK - 1) };
	if (bind(fd, (struct sockaddr *)&local, sizeof(local)) < 0)
		return fail(4, "bind", errno);
	int one = 1;
	setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
	/* Acks without the request echoed: fewer bytes in the receive buffer. */
	setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
	int granted = 0;
	socklen_t glen = sizeof(granted);
	getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &granted, &glen);
	uint32_t g = (uint32_t)granted;
	if (write_frame(OUT_READY, &g, sizeof(g)) < 0)
		return fail(4, "write stdout", errno);

	size_t in_cap = 65536, in_len = 0, rx_cap = 65536;
	unsigned char *in = malloc(in_cap), *rx = malloc(rx_cap);
	if (!in || !rx)
		return fail(4, "malloc", ENOMEM);
	for (;;) {
		struct pollfd pfd[2] = { { .fd = STDIN_FILENO, .events = POLLIN }, { .fd = fd, .events = POLLIN } };
		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			return fail(4, "poll", errno);
		}
		/* The socket first: replies and events are what the daemon waits for. */
		if (pfd[1].revents & (POLLIN | POLLERR)) {
			int rc = forward_datagram(fd, &rx, &rx_cap);
			if (rc)
				return rc;
		}
		if (pfd[0].revents & (POLLIN | POLLHUP | POLLERR)) {
			if (in_len == in_cap) {
				unsigned char *nb = in_cap * 2 > MAX_FRAME + FRAME_HDR + 4 ? NULL : realloc(in, in_cap * 2);
				if (!nb)
					return fail(2, "frame on stdin too long", E2BIG);
				in = nb;
				in_cap *= 2;
			}
			ssize_t n = read(STDIN_FILENO, in + in_len, in_cap - in_len);
			if (n < 0 && (errno == EINTR || errno == EAGAIN))
				continue;
			if (n < 0)
				return fail(4, "read stdin", errno);
			if (n == 0)
				return 0; /* vifd closed our stdin: done */
			in_len += (size_t)n;
			size_t off = 0;
			while (in_len - off >= FRAME_HDR) {
				uint32_t hdr[2];
				memcpy(hdr, in + off, sizeof(hdr));
				if (hdr[1] > MAX_FRAME)
					return fail(2, "frame on stdin too long", E2BIG);
				size_t total = FRAME_HDR + ((hdr[1] + 3u) & ~3u);
				if (in_len - off < total)
					break;
				int rc = handle_frame(fd, hdr[0], in + off + FRAME_HDR, hdr[1]);
				if (rc)
					return rc;
				off += total;
			}
			memmove(in, in + off, in_len - off);
			in_len -= off;
		}
	}
}

int main(int argc, char **argv)
{
	const char *netns = NULL;
	unsigned long dst_pid = 0, timeout_ms = 5000, rcvbuf = 32ul << 20;
	int stream = 0;

	for (int i = 1; i < argc; i++) {
		char *end = NULL;
		if (strcmp(argv[i], "--netns") == 0 && i + 1 < argc) {
			netns = argv[++i];
		} else if (strcmp(argv[i], "--pid") == 0 && i + 1 < argc) {
			dst_pid = strtoul(argv[++i], &end, 10);
			if (*end || dst_pid > UINT32_MAX) return fail(2, "bad --pid", EINVAL);
		} else if (strcmp(argv[i], "--timeout-ms") == 0 && i + 1 < argc) {
			timeout_ms = strtoul(argv[++i], &end, 10);
			if (*end || timeout_ms == 0 || timeout_ms > 600000) return fail(2, "bad --timeout-ms", EINVAL);
		} else if (strcmp(argv[i], "--stream") == 0) {
			stream = 1;
		} else if (strcmp(argv[i], "--rcvbuf") == 0 && i + 1 < argc) {
			rcvbuf = strtoul(argv[++i], &end, 10);
			if (*end || rcvbuf < 1024 || rcvbuf > (1ul << 30)) return fail(2, "bad --rcvbuf", EINVAL);
		} else {
			fprintf(stderr, "usage: vifd-netlink [--netns NAME] [--pid PORTID] [--timeout-ms N] < messages\n"
					"       vifd-netlink --stream [--netns NAME] [--rcvbuf BYTES]\n");
			return 2;
		}
	}

	if (netns) {
		char path[PATH_MAX];
		if (!valid_netns_name(netns))
			return fail(2, "bad --netns name", EINVAL);
		snprintf(path, sizeof(path), "/run/netns/%s", netns);
		int nsfd = open(path, O_RDONLY | O_CLOEXEC);
		if (nsfd < 0)
			return fail(3, "open netns", errno);
		if (setns(nsfd, CLONE_NEWNET) < 0)
			return fail(3, "setns", errno);
		close(nsfd);
	}
	if (stream)
		return run_stream(rcvbuf);

	size_t in_len = 0;
	unsigned char *in = read_all(STDIN_FILENO, &in_len);
	if (!in)
		return fail(4, "read stdin", errno);
	if (in_len < sizeof(struct nlmsghdr))
		return fail(2, "stdin holds no netlink message", EINVAL);

	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0)
		return fail(4, "socket", errno);
	struct sockaddr_nl local = { .nl_family = AF_NETLINK };
	if (bind(fd, (struct sockaddr *)&local, sizeof(local)) < 0)
		return fail(4, "bind", errno);
	int one = 1;
	setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));

	struct sockaddr_nl peer = { .nl_family = AF_NETLINK, .nl_pid = (uint32_t)dst_pid };
	size_t off = 0;
	while (off < in_len) {
		struct nlmsghdr *req = (struct nlmsghdr *)(in + off);
		if (in_len - off < sizeof(*req) || req->nlmsg_len < sizeof(*req) ||
		    req->nlmsg_len > in_len - off)
			return fail(2, "truncated netlink message on stdin", EINVAL);
		uint32_t seq = req->nlmsg_seq;
		if (sendto(fd, req, req->nlmsg_len, 0, (struct sockaddr *)&peer, sizeof(peer)) < 0)
			return fail(4, "sendto", errno);
		off += NLMSG_ALIGN(req->nlmsg_len);

		int done = 0;
		while (!done) {
			struct pollfd pfd = { .fd = fd, .events = POLLIN };
			int pr = poll(&pfd, 1, (int)timeout_ms);
			if (pr < 0 && errno == EINTR)
				continue;
			if (pr < 0)
				return fail(4, "poll", errno);
			if (pr == 0)
				return fail(5, "timed out waiting for the netlink reply", ETIMEDOUT);
			ssize_t want = recv(fd, NULL, 0, MSG_PEEK | MSG_TRUNC);
			if (want < 0)
				return fail(4, "recv", errno);
			unsigned char *buf = malloc((size_t)want + 1);
			if (!buf)
				return fail(4, "malloc", ENOMEM);
			ssize_t n = recv(fd, buf, (size_t)want, 0);
			if (n < 0)
				return fail(4, "recv", errno);
			size_t roff = 0;
			while (roff + sizeof(struct nlmsghdr) <= (size_t)n) {
				struct nlmsghdr *h = (struct nlmsghdr *)(buf + roff);
				if (h->nlmsg_len < sizeof(*h) || h->nlmsg_len > (size_t)n - roff)
					break;
				if (h->nlmsg_seq == seq) {
					if (write_all((unsigned char *)h, h->nlmsg_len) < 0)
						return fail(4, "write stdout", errno);
					if (h->nlmsg_type == NLMSG_ERROR || h->nlmsg_type == NLMSG_DONE)
						done = 1;
				}
				roff += NLMSG_ALIGN(h->nlmsg_len);
			}
			free(buf);
		}
	}
	close(fd);
	free(in);
	return 0;
}
