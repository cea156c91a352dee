/*
 * vifd-notify: relays sd_notify(3) messages from vifd to systemd.
 *
 * Node has no AF_UNIX datagram sockets, and systemd-notify(1) is racy by its
 * own manual (systemd attributes a message by the sender's PID, and the
 * command may have exited before it looks). This helper lives as long as vifd:
 * vifd starts it once, and it stays in vifd's cgroup the whole time.
 *
 * usage:  vifd-notify            (NOTIFY_SOCKET in the environment)
 * stdin:  messages, each a few "VAR=value" lines ended by an empty line;
 *         every message is sent as one datagram to $NOTIFY_SOCKET
 *         (a path, or "@name" for an abstract socket).
 * exit:   0 at end of input, 2 NOTIFY_SOCKET unusable, 4 socket error.
 *         A message that cannot be sent is reported on stderr and dropped
 *         (systemd may be re-executing); the next one is tried again.
 * It dies with its parent (PR_SET_PDEATHSIG), and at end of input.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define MAX_MESSAGE 4096

static int fail(int code, const char *what, int err)
{
	fprintf(stderr, "vifd-notify: %s: %s (errno %d)\n", what, strerror(err), err);
	return code;
}

int main(void)
{
	pid_t parent = getppid();
	if (prctl(PR_SET_PDEATHSIG, SIGTERM) != 0)
		return fail(4, "prctl(PR_SET_PDEATHSIG)", errno);
	if (getppid() != parent)
		return 0; /* the parent died before prctl took effect */

	const char *name = getenv("NOTIFY_SOCKET");
	if (!name || (name[0] != '/' && name[0] != '@')) {
		fprintf(stderr, "vifd-notify: NOTIFY_SOCKET must be a path or @abstract name\n");
		return 2;
	}
	struct sockaddr_un sa;
	memset(&sa, 0, sizeof sa);
	sa.sun_family = AF_UNIX;
	size_t len = strlen(name);
	if (len < 2 || len >= sizeof sa.sun_path) {
		fprintf(stderr, "vifd-notify: NOTIFY_SOCKET is too long or empty\n");
		return 2;
	}
	memcpy(sa.sun_path, name, len);
	if (name[0] == '@')
		sa.sun_path[0] = '\0'; /* abstract: no terminating NUL counted */
	socklen_t salen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len + (name[0] == '/' ? 1 : 0));

	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return fail(4, "socket", errno);

	char message[MAX_MESSAGE];
	size_t used = 0;
	int dropping = 0;
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	for (;;) {
		n = getline(&line, &cap, stdin);
		int end = n < 0;
		if (!end && n > 0 && line[n - 1] == '\n')
			line[--n] = '\0';
		if (end || n == 0) {
			if (used > 0 && !dropping) {
				/* without the last line's newline, as sd_notify sends it */
				if (sendto(fd, message, used - 1, MSG_NOSIGNAL, (struct sockaddr *)&sa, salen) < 0)
					fail(0, "sendto", errno);
			}
			used = 0;
			dropping = 0;
			if (end)
				break;
			continue;
		}
		if (dropping)
			continue;
		if (used + (size_t)n + 1 > sizeof message) {
			fprintf(stderr, "vifd-notify: message over %d bytes dropped\n", MAX_MESSAGE);
			dropping = 1; /* swallow the rest of this message */
			continue;
		}
		memcpy(message + used, line, (size_t)n);
		used += (size_t)n;
		message[used++] = '\n';
	}
	free(line);
	close(fd);
	return 0;
}
