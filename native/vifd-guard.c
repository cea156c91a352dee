/*
 * vifd-guard: runs a program that dies with vifd.
 *
 * usage: vifd-guard PARENT_PID PROGRAM [ARG...]
 *
 * Sets PR_SET_PDEATHSIG (SIGKILL) on itself, checks that its parent is still
 * PARENT_PID (if vifd died between fork and prctl, the child was already
 * reparented and must not run), then execs PROGRAM in place (no extra
 * process; the parent-death signal survives execve of a program that is not
 * set-user-ID). Node cannot set a parent-death signal on its children; every
 * host command vifd starts goes through this (src/host/run.ts).
 *
 * exit codes: 125 usage/prctl/parent gone, 126 cannot execute, 127 not found.
 * An exec failure prints "vifd-guard: cannot run PROGRAM: <strerror>".
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: vifd-guard PARENT_PID PROGRAM [ARG...]\n");
		return 125;
	}
	char *end = NULL;
	long parent = strtol(argv[1], &end, 10);
	if (*end || parent <= 0) {
		fprintf(stderr, "vifd-guard: bad parent pid %s\n", argv[1]);
		return 125;
	}
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) {
		fprintf(stderr, "vifd-guard: prctl: %s\n", strerror(errno));
		return 125;
	}
	if (getppid() != (pid_t)parent)
		return 125; /* vifd is already gone */
	execvp(argv[2], argv + 2);
	int err = errno;
	fprintf(stderr, "vifd-guard: cannot run %s: %s\n", argv[2], strerror(err));
	return err == ENOENT ? 127 : 126;
}
