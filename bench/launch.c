// Times processes one by one without a shell in between (bench/deploy.sh): reads command lines from
// standard input, starts each with posix_spawn() (as a CI runner or make starts a step), waits for
// it and prints how long it took, spawn to exit. Nothing else runs between two commands, so a
// command's time is its own plus the spawn and wait that any launcher needs.
//
// input, one command per line, fields separated by tabs (arguments cannot hold a tab or newline):
//   LABEL <tab> LOG <tab> PROGRAM <tab> ARG...
// PROGRAM is a path (no PATH lookup); the command's standard output and error are appended to LOG.
// output, one line per command: LABEL SECONDS EXIT_STATUS (127 when it could not be started).
// usage: launch < COMMANDS > TIMES
#define _GNU_SOURCE
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char** environ;

enum { k_max_fields = 256 };

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int main(void) {
  char* line = NULL;
  size_t capacity = 0;
  ssize_t length;
  int line_number = 0;
  while ((length = getline(&line, &capacity, stdin)) > 0) {
    ++line_number;
    if (line[length - 1] == '\n') line[length - 1] = '\0';
    char* fields[k_max_fields + 1];
    int count = 0;
    for (char* field = strtok(line, "\t"); field && count < k_max_fields; field = strtok(NULL, "\t"))
      fields[count++] = field;
    fields[count] = NULL;
    if (count < 3) {
      fprintf(stderr, "launch: line %d: want LABEL, LOG and PROGRAM separated by tabs\n", line_number);
      return 2;
    }
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, fields[1], O_WRONLY | O_CREAT | O_APPEND, 0644);
    posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
    pid_t pid;
    int status = 0;
    double start = now();
    int failed = posix_spawn(&pid, fields[2], &actions, NULL, fields + 2, environ);
    if (!failed && waitpid(pid, &status, 0) < 0) failed = 1;
    double seconds = now() - start;
    posix_spawn_file_actions_destroy(&actions);
    int exit_status = failed ? 127 : WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    printf("%s %.6f %d\n", fields[0], seconds, exit_status);
  }
  free(line);
  return fflush(stdout) == 0 ? 0 : 1;
}
