/*
 * Copyright 2026 The libsparselut authors
 * SPDX-License-Identifier: Apache-2.0
 *
 * SIGINT and SIGTERM for the whole `sparselut` program (the library installs
 * no handlers; it is a library).
 *
 * The handler only records the signal, forwards it to the external tool that
 * is running (its own process group, see cli_run_in_dir) and restores the
 * default action, so a second signal while shutting down ends the program at
 * once. Nothing is interrupted halfway: the handler returns (SA_RESTART), the
 * library's atomic write in progress completes, and the command stops at its
 * next poll — `train` from its progress callback (SPLUT_E_CANCELLED after the
 * current step, the last checkpoint left resumable), the other commands when
 * they return to main(). No `*.tmp.*` temporary is ever left behind; the exit
 * status is 128 + the signal (130 for SIGINT, 143 for SIGTERM).
 */
#include "cli.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static volatile sig_atomic_t received;   /* the first SIGINT/SIGTERM, 0 if none */
static volatile sig_atomic_t tool_group; /* process group of the running tool, 0 if none */

static void set_action(void (*fn)(int))
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = fn;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

/* Async-signal-safe: a flag, kill() and sigaction() only. */
static void on_signal(int sig)
{
    int saved = errno;
    if (!received)
        received = sig;
    if (tool_group > 0)
        kill(-(pid_t)tool_group, sig);
    set_action(SIG_DFL);
    errno = saved;
}

void cli_signals_install(void)
{
    set_action(on_signal);
}

int cli_signal_received(void)
{
    return received;
}

int cli_interrupted(void)
{
    static int reported;
    if (!reported)
        cli_err("interrupted (%s)", received == SIGTERM ? "SIGTERM" : "SIGINT");
    reported = 1;
    return 128 + (received ? received : SIGINT);
}

static const char *signal_name(int sig)
{
    static const struct {
        int sig;
        const char *name;
    } names[] = {{SIGHUP, "SIGHUP"},   {SIGINT, "SIGINT"},   {SIGQUIT, "SIGQUIT"},
                 {SIGILL, "SIGILL"},   {SIGABRT, "SIGABRT"}, {SIGBUS, "SIGBUS"},
                 {SIGFPE, "SIGFPE"},   {SIGKILL, "SIGKILL"}, {SIGSEGV, "SIGSEGV"},
                 {SIGPIPE, "SIGPIPE"}, {SIGALRM, "SIGALRM"}, {SIGTERM, "SIGTERM"},
                 {SIGXCPU, "SIGXCPU"}, {SIGXFSZ, "SIGXFSZ"}};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (names[i].sig == sig)
            return names[i].name;
    return NULL;
}

static void describe_signal(int sig, char *buf, size_t cap)
{
    const char *name = signal_name(sig);
    if (name)
        snprintf(buf, cap, "was killed by signal %s (%d)", name, sig);
    else
        snprintf(buf, cap, "was killed by signal %d", sig);
}

void cli_describe_status(int status, char *buf, size_t cap)
{
    if (status == -1) {
        snprintf(buf, cap, "could not be started");
    } else if (WIFSIGNALED(status)) {
        describe_signal(WTERMSIG(status), buf, cap);
    } else if (WIFEXITED(status)) {
        int code = WEXITSTATUS(status);
        /* The shell reports a command killed by signal N as status 128 + N. */
        if (code > 128 && code < 128 + 32)
            describe_signal(code - 128, buf, cap);
        else if (code == 127)
            snprintf(buf, cap, "exited with status 127 (command not found?)");
        else
            snprintf(buf, cap, "exited with status %d", code);
    } else {
        snprintf(buf, cap, "ended with wait status %d", status);
    }
}

int cli_tool_failed(const char *tool, int status, const char *log)
{
    if (received) /* the user stopped it: main() says "interrupted" */
        return CLI_EXIT_FAIL;
    char how[96];
    cli_describe_status(status, how, sizeof how);
    if (log)
        cli_err("%s %s; see %s", tool, how, log);
    else
        cli_err("%s %s", tool, how);
    return CLI_EXIT_FAIL;
}

/* The tool runs in its own process group so that the handler can signal it
 * and everything it started in one kill(); -1 if it cannot start or a signal
 * has already arrived. */
int cli_run_shell(const char *cmd)
{
    if (received)
        return -1;
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        setpgid(0, 0);
        set_action(SIG_DFL);
        /* Only async-signal-safe calls between fork and exec (threads). */
        char *const argv[] = {"sh", "-c", (char *)cmd, NULL};
        execve("/bin/sh", argv, environ);
        _exit(127);
    }
    setpgid(pid, pid); /* also here: the handler may run before the child's setpgid */
    tool_group = pid;
    if (received) /* arrived between the check above and tool_group */
        kill(-pid, received);
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR) {
            status = -1;
            break;
        }
    tool_group = 0;
    return status;
}
