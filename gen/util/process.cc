#include "util/process.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include <fmt/format.h>

int RunSubprocess(const Subprocess& command, std::string* err) {
  std::vector<char*> argv;
  for (const std::string& a : command.argv) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);

  int out_fd = -1;
  if (!command.output.empty()) {
    out_fd = open(command.output.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (out_fd < 0) {
      *err = fmt::format("{}: cannot write: {}", command.output.string(), std::strerror(errno));
      return -1;
    }
  }
  // A pipe with CLOEXEC tells the parent whether exec failed, and why.
  int status_pipe[2];
  if (pipe2(status_pipe, O_CLOEXEC) != 0) {
    *err = fmt::format("pipe: {}", std::strerror(errno));
    return -1;
  }
  pid_t pid = fork();
  if (pid < 0) {
    *err = fmt::format("fork: {}", std::strerror(errno));
    return -1;
  }
  if (pid == 0) {
    close(status_pipe[0]);
    if (out_fd >= 0) {
      dup2(out_fd, 1);
      dup2(out_fd, 2);
    }
    for (const auto& [key, value] : command.env) setenv(key.c_str(), value.c_str(), 1);
    if (!command.cwd.empty() && chdir(command.cwd.c_str()) != 0) {
      int e = errno;
      (void)!write(status_pipe[1], &e, sizeof e);
      _exit(127);
    }
    execv(argv[0], argv.data());
    int e = errno;
    (void)!write(status_pipe[1], &e, sizeof e);
    _exit(127);
  }
  close(status_pipe[1]);
  if (out_fd >= 0) close(out_fd);
  int child_errno = 0;
  ssize_t n;
  do {
    n = read(status_pipe[0], &child_errno, sizeof child_errno);
  } while (n < 0 && errno == EINTR);
  close(status_pipe[0]);

  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) {
      *err = fmt::format("waitpid: {}", std::strerror(errno));
      return -1;
    }
  }
  if (n == static_cast<ssize_t>(sizeof child_errno)) {
    *err = fmt::format("cannot run {}: {}", command.argv[0], std::strerror(child_errno));
    return -1;
  }
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return WEXITSTATUS(status);
}
