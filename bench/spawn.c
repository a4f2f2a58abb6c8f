// The process-start floor under the pipeline runner (bench/spawn.sh): starts `sh -c` with a step
// like the pipelines benchmark's N times, one at a time, with posix_spawn() as GNU make does or
// with vfork() and exec as mlctl does, and prints milliseconds per start.
// usage: spawn posix_spawn|vfork N
#define _GNU_SOURCE
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char** environ;

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int main(int argc, char** argv) {
  if (argc != 3 || (strcmp(argv[1], "posix_spawn") != 0 && strcmp(argv[1], "vfork") != 0)) {
    fprintf(stderr, "usage: spawn posix_spawn|vfork N\n");
    return 2;
  }
  int use_vfork = strcmp(argv[1], "vfork") == 0;
  int n = atoi(argv[2]);
  char* args[] = {"/bin/sh", "-c", "read a < /etc/os-release; echo \"$a\" > /dev/null", NULL};
  sigset_t none;
  sigemptyset(&none);
  double start = now();
  for (int i = 0; i < n; ++i) {
    pid_t pid = -1;
    if (use_vfork) {
      pid = vfork();
      if (pid == 0) {
        setpgid(0, 0);
        sigprocmask(SIG_SETMASK, &none, NULL);
        execve(args[0], args, environ);
        _exit(127);
      }
    } else {
      posix_spawnattr_t attr;
      posix_spawnattr_init(&attr);
      posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK);
      posix_spawnattr_setsigmask(&attr, &none);
      if (posix_spawn(&pid, args[0], NULL, &attr, args, environ) != 0) pid = -1;
      posix_spawnattr_destroy(&attr);
    }
    int status = 0;
    if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      fprintf(stderr, "spawn: a child failed\n");
      return 1;
    }
  }
  printf("%.3f\n", (now() - start) * 1000.0 / n);
  return 0;
}
