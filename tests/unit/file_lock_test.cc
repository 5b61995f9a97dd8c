#include "util/file_lock.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <functional>

#include <gtest/gtest.h>

namespace {

fs::path FreshDir(const std::string& name) {
  fs::path dir = fs::path(::testing::TempDir()) / name;
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

std::string Read(const fs::path& path) {
  std::string text, err;
  ReadFile(path, &text, &err);
  return text;
}

// A child process that locks `file`, writes a byte to `ready_fd`, runs
// `then` and exits 0 (1 when it could not lock).
pid_t ForkLockHolder(const fs::path& file, int ready_fd, const std::function<void()>& then) {
  pid_t child = fork();
  if (child != 0) return child;
  FileLock lock;
  std::string err;
  bool held = false;
  if (!lock.TryAcquire(file, &held, &err) || !held) _exit(1);
  (void)!write(ready_fd, "x", 1);
  then();
  _exit(0);
}

TEST(FileLock, CreatesItsFolderAndRecordsThePid) {
  fs::path file = FreshDir("pa_lock_pid") / "locks" / "a.lock";
  FileLock lock;
  std::string err;
  ASSERT_TRUE(lock.Acquire(file, [](const std::string&) { FAIL() << "nobody holds it"; }, &err))
      << err;
  EXPECT_EQ(Read(file), std::to_string(getpid()) + "\n");
}

TEST(FileLock, HeldUntilDestroyed) {
  fs::path file = FreshDir("pa_lock_scope") / "a.lock";
  std::string err;
  bool held = false;
  {
    FileLock first;
    ASSERT_TRUE(first.TryAcquire(file, &held, &err)) << err;
    ASSERT_TRUE(held);
    FileLock second;  // another open file: flock(2) locks it out, also in this process
    ASSERT_TRUE(second.TryAcquire(file, &held, &err)) << err;
    EXPECT_FALSE(held);
  }
  FileLock third;
  ASSERT_TRUE(third.TryAcquire(file, &held, &err)) << err;
  EXPECT_TRUE(held);
}

// A waiter says who holds the lock, and gets it once the holder is killed.
TEST(FileLock, WaitsForAKilledHolderAndNamesIt) {
  fs::path file = FreshDir("pa_lock_kill") / "a.lock";
  int ready[2];
  ASSERT_EQ(pipe(ready), 0);
  pid_t child = ForkLockHolder(file, ready[1], [] {
    for (;;) pause();
  });
  ASSERT_GE(child, 0);
  char c;
  ASSERT_EQ(read(ready[0], &c, 1), 1);
  std::string holder;
  FileLock lock;
  std::string err;
  ASSERT_TRUE(lock.Acquire(file, [&](const std::string& pid) {
    holder = pid;
    kill(child, SIGKILL);
  }, &err)) << err;
  EXPECT_EQ(holder, std::to_string(child));
  EXPECT_EQ(Read(file), std::to_string(getpid()) + "\n");
  int status = 0;
  waitpid(child, &status, 0);
  close(ready[0]);
  close(ready[1]);
}

// The holder removes the lock file (and its folder) before it lets go, as
// a failed first generation removes its .pa/: the waiter then holds the
// lock on the file at the path, so a third process is locked out.
TEST(FileLock, AWaiterLocksTheFileAtThePathWhenTheHolderRemovedIt) {
  fs::path dir = FreshDir("pa_lock_removed") / "state";
  fs::path file = dir / "a.lock";
  int ready[2], go[2];
  ASSERT_EQ(pipe(ready), 0);
  ASSERT_EQ(pipe(go), 0);
  pid_t child = ForkLockHolder(file, ready[1], [&] {
    char c;
    (void)!read(go[0], &c, 1);
    fs::remove_all(dir);  // then exits, which releases the lock on the removed file
  });
  ASSERT_GE(child, 0);
  char c;
  ASSERT_EQ(read(ready[0], &c, 1), 1);
  FileLock lock;
  std::string err;
  ASSERT_TRUE(lock.Acquire(file, [&](const std::string&) { (void)!write(go[1], "x", 1); }, &err))
      << err;
  EXPECT_EQ(Read(file), std::to_string(getpid()) + "\n");
  FileLock third;
  bool held = true;
  ASSERT_TRUE(third.TryAcquire(file, &held, &err)) << err;
  EXPECT_FALSE(held);
  int status = 0;
  waitpid(child, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  for (int fd : {ready[0], ready[1], go[0], go[1]}) close(fd);
}

TEST(WriteFilesIfChanged, WritesEveryFile) {
  fs::path dir = FreshDir("pa_pair_ok");
  std::string err;
  bool changed = false;
  ASSERT_TRUE(WriteFilesIfChanged({{dir / "plan", "new plan"}, {dir / "build.ninja", "new ninja"}},
                                  &changed, &err))
      << err;
  EXPECT_TRUE(changed);
  EXPECT_EQ(Read(dir / "plan"), "new plan");
  EXPECT_EQ(Read(dir / "build.ninja"), "new ninja");
  changed = false;
  ASSERT_TRUE(WriteFilesIfChanged({{dir / "plan", "new plan"}, {dir / "build.ninja", "new ninja"}},
                                  &changed, &err));
  EXPECT_FALSE(changed);
}

// The second file cannot be written: the first keeps its old content, and
// no temporary file is left behind.
TEST(WriteFilesIfChanged, AFailureHalfwayLeavesBothOldFiles) {
  fs::path dir = FreshDir("pa_pair_fail");
  std::string err;
  bool changed = false;
  ASSERT_TRUE(WriteFilesIfChanged({{dir / "plan", "old plan"}, {dir / "build.ninja", "old"}},
                                  &changed, &err));
  // A folder where build.ninja's temporary goes: it cannot be created, not even by root.
  fs::path blocker = dir / "build.ninja";
  blocker += ".tmp" + std::to_string(getpid());
  fs::create_directory(blocker);
  changed = false;
  EXPECT_FALSE(WriteFilesIfChanged({{dir / "plan", "new plan"}, {dir / "build.ninja", "new"}},
                                   &changed, &err));
  EXPECT_NE(err.find("cannot write"), std::string::npos) << err;
  EXPECT_FALSE(changed);
  EXPECT_EQ(Read(dir / "plan"), "old plan");
  EXPECT_EQ(Read(dir / "build.ninja"), "old");
  fs::remove(blocker);
  for (const auto& entry : fs::directory_iterator(dir))
    EXPECT_EQ(entry.path().filename().string().find(".tmp"), std::string::npos) << entry.path();
}

}  // namespace
