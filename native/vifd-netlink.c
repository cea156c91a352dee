/*
 * vifd-netlink: a dumb pipe between stdin/stdout and a NETLINK_ROUTE socket.
 *
 * All protocol logic (building RTM_SETLINK/RTM_GETLINK, decoding replies)
 * lives in TypeScript (src/host/portprofile/qbh-message.ts); this helper only
 * does what Node cannot: open a netlink socket, optionally inside a named
 * network namespace.
 *
 * usage: vifd-netlink [--netns NAME] [--pid PORTID] [--timeout-ms N]
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
 * exit codes: 0 ok, 2 usage/bad input, 3 netns, 4 socket/io, 5 timeout.
 * Diagnostics go to stderr as "vifd-netlink: <what>: <strerror> (errno N)".
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/netlink.h>
#include <poll.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

int main(int argc, char **argv)
{
	const char *netns = NULL;
	unsigned long dst_pid = 0, timeout_ms = 5000;

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
		} else {
			fprintf(stderr, "usage: vifd-netlink [--netns NAME] [--pid PORTID] [--timeout-ms N] < messages\n");
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
