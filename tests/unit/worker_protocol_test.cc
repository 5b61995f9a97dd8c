#include <sys/wait.h>

#include <gtest/gtest.h>

#include <fstream>

#include "util/fs.h"
#include "worker/worker_protocol.h"
#include "worker/worker_runner.h"

namespace {

void Write(const fs::path& path, const std::string& text) {
  std::ofstream(path) << text;
}

fs::path TempDir(const std::string& name) {
  fs::path d = fs::temp_directory_path() / ("pa-unit-worker-" + name + "-" + std::to_string(getpid()));
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

CommandRequest Dbt(const fs::path& dbt, const fs::path& cwd, std::vector<std::string> args) {
  CommandRequest r;
  r.argv = {dbt.string()};
  r.argv.insert(r.argv.end(), args.begin(), args.end());
  r.cwd = cwd;
  return r;
}

TEST(WorkerProtocol, FramingRoundTripsAndWaitsForWholeMessages) {
  std::string wire = EncodeMessage({{"pid", 42}}) + EncodeMessage({{"status", 256}});
  std::string buffer;
  nlohmann::json m;
  bool bad = false;
  for (size_t i = 0; i < wire.size(); ++i) {
    buffer.push_back(wire[i]);
    if (DecodeMessage(&buffer, &m, &bad)) break;
    EXPECT_FALSE(bad);
  }
  EXPECT_EQ(m["pid"], 42);
  buffer += wire.substr(buffer.size() + EncodeMessage({{"pid", 42}}).size() - buffer.size());
  buffer = wire.substr(EncodeMessage({{"pid", 42}}).size());
  ASSERT_TRUE(DecodeMessage(&buffer, &m, &bad));
  EXPECT_EQ(m["status"], 256);
  EXPECT_TRUE(buffer.empty());
}

TEST(WorkerProtocol, GarbageIsBadNotAMessage) {
  std::string buffer = std::string("\x00\x00\x00\x03", 4) + "xyz";
  nlohmann::json m;
  bool bad = false;
  EXPECT_FALSE(DecodeMessage(&buffer, &m, &bad));
  EXPECT_TRUE(bad);
  buffer = "\xff\xff\xff\xff";
  EXPECT_FALSE(DecodeMessage(&buffer, &m, &bad));
  EXPECT_TRUE(bad);
  buffer = std::string("\x00\x00\x00\x02", 4) + "[]";  // JSON, but not an object
  EXPECT_FALSE(DecodeMessage(&buffer, &m, &bad));
  EXPECT_TRUE(bad);
}

TEST(WorkerProtocol, ShebangNamesTheInterpreter) {
  EXPECT_EQ(ShebangInterpreter("#!/venv/bin/python3"), "/venv/bin/python3");
  EXPECT_EQ(ShebangInterpreter("#! /venv/bin/python3 -E\n"), "/venv/bin/python3");
  EXPECT_EQ(ShebangInterpreter("ELF..."), "");
  fs::path d = TempDir("shebang");
  Write(d / "dbt", "#!/usr/bin/env python3\n");
  Write(d / "python3", "");
  fs::permissions(d / "python3", fs::perms::owner_all);
  EXPECT_EQ(PythonFor(d / "dbt"), d / "python3");  // env: the python beside it
  Write(d / "bin", "\x7f" "ELF");
  EXPECT_EQ(PythonFor(d / "bin"), fs::path());  // a binary dbt gets no worker
  fs::remove_all(d);
}

TEST(WorkerProtocol, KeySeparatesProfileTargetVarsAndDbtButNotSelectionOrEnv) {
  fs::path d = TempDir("key");
  Write(d / "dbt", "#!/bin/python3\n");
  auto key = [&](std::vector<std::string> args) {
    std::optional<WorkerKey> k = KeyFor(Dbt(d / "dbt", d, args));
    EXPECT_TRUE(k.has_value());
    return k ? k->hash : "";
  };
  std::string base = key({"build", "--profiles-dir", ".", "--select", "a"});
  EXPECT_EQ(base, key({"build", "--profiles-dir", d.string() + "/", "--select", "b", "--threads", "4"}));
  EXPECT_EQ(base, key({"parse", "--profiles-dir", "."}));
  EXPECT_NE(base, key({"build", "--profiles-dir", ".", "--target", "prod"}));
  EXPECT_NE(base, key({"build", "--profiles-dir", ".", "--vars", "{x: 1}"}));
  EXPECT_NE(base, key({"build", "--profiles-dir", "other"}));
  EXPECT_NE(base, key({"build", "--profiles-dir", ".", "--profile", "p2"}));
  CommandRequest with_env = Dbt(d / "dbt", d, {"build", "--profiles-dir", "."});
  with_env.env = {{"SOME_VAR", "1"}};
  EXPECT_EQ(base, KeyFor(with_env)->hash);
  with_env.env = {{"DBT_TARGET", "prod"}};
  EXPECT_NE(base, KeyFor(with_env)->hash);
  // Another dbt installation (its script rewritten) is another worker.
  sleep(1);
  Write(d / "dbt", "#!/bin/python3\n# reinstalled\n");
  EXPECT_NE(base, key({"build", "--profiles-dir", "."}));
  fs::remove_all(d);
}

TEST(WorkerProtocol, OnlyDbtCommandsWithACwdGoToTheWorker) {
  fs::path d = TempDir("servable");
  Write(d / "dbt", "#!/bin/python3\n");
  EXPECT_FALSE(KeyFor(Dbt(d / "dbt", d, {"deps"})).has_value());
  EXPECT_FALSE(KeyFor(Dbt(d / "dbt", "", {"build"})).has_value());
  EXPECT_FALSE(KeyFor(Dbt(d / "missing", d, {"build"})).has_value());
  EXPECT_TRUE(KeyFor(Dbt(d / "dbt", d, {"build"})).has_value());
  fs::remove_all(d);
}

TEST(WorkerProtocol, LongProjectPathsPutTheSocketUnderTheRuntimeDir) {
  WorkerPaths shortp = PathsFor("/p", "0123456789abcdef", "/run/user/1", 1);
  EXPECT_EQ(shortp.socket, fs::path("/p/.pa/worker/0123456789abcdef.sock"));
  EXPECT_EQ(shortp.socket, shortp.entry);
  std::string long_dir = "/" + std::string(120, 'x');
  WorkerPaths longp = PathsFor(long_dir, "0123456789abcdef", "/run/user/1", 1);
  EXPECT_EQ(longp.socket, fs::path("/run/user/1/pa-gen/0123456789abcdef.sock"));
  EXPECT_EQ(longp.entry, fs::path(long_dir) / ".pa/worker/0123456789abcdef.sock");
  EXPECT_EQ(PathsFor(long_dir, "0123456789abcdef", "", 7).socket,
            fs::path("/tmp/pa-gen-7/0123456789abcdef.sock"));
}

TEST(WorkerProtocol, RunMessageCarriesTheWholeEnvironmentWithOverrides) {
  CommandRequest r;
  r.argv = {"/x/dbt", "build"};
  r.cwd = "/p";
  r.env = {{"A", "2"}, {"DO_NOT_TRACK", "1"}};
  std::string a = "A=1", b = "B=x=y";
  char* env[] = {a.data(), b.data(), nullptr};
  nlohmann::json m = RunMessage(r, WorkerKey{"k", "h"}, env);
  EXPECT_EQ(m["env"], nlohmann::json({"A=2", "B=x=y", "DO_NOT_TRACK=1"}));
  EXPECT_EQ(m["argv"], nlohmann::json({"/x/dbt", "build"}));
  EXPECT_EQ(m["key"], "k");
}

TEST(WorkerProtocol, ExitCodes) {
  EXPECT_EQ(ExitCodeFromStatus(0), 0);
  EXPECT_EQ(ExitCodeFromStatus(2 << 8), 2);
  EXPECT_EQ(ExitCodeFromStatus(SIGKILL), 128 + SIGKILL);
}

// A runner that records what it was asked to run.
class RecordingRunner : public CommandRunner {
 public:
  bool Run(const CommandRequest& request, CommandResult* result, std::string*) override {
    runs.push_back(request.argv);
    *result = CommandResult();
    result->exit_code = 0;
    return true;
  }
  std::vector<std::vector<std::string>> runs;
};

TEST(WorkerProtocol, StatusLineNamesThePreloadedManifest) {
  nlohmann::json reply = {{"ok", true}, {"pid", 42}, {"dbt_version", "1.12.0"}, {"started", 100.0},
                          {"rss_kb", 120000}, {"idle_seconds", 600.0}, {"preload", nullptr}};
  EXPECT_EQ(StatusLine("abc", reply, 130.4, "/p/.pa/worker/abc.sock"),
            "abc: pid 42, dbt 1.12.0, started 30 s ago, rss 120000 kB, idle timeout 600 s, "
            "no preloaded manifest, /p/.pa/worker/abc.sock");
  reply["preload"] = {{"path", "/p/.pa/parse/partial_parse.msgpack"},
                      {"sha256", "0123456789abcdef0123"}, {"nodes", 201}, {"load_seconds", 0.5}};
  EXPECT_EQ(StatusLine("abc", reply, 130.4, "/p/.pa/worker/abc.sock"),
            "abc: pid 42, dbt 1.12.0, started 30 s ago, rss 120000 kB, idle timeout 600 s, "
            "preloaded /p/.pa/parse/partial_parse.msgpack (201 nodes, sha256 0123456789abcdef, "
            "loaded in 0.50 s), /p/.pa/worker/abc.sock");
  reply["warm_pending"] = true;
  EXPECT_EQ(StatusLine("abc", reply, 130.4, "/p/.pa/worker/abc.sock"),
            "abc: pid 42, dbt 1.12.0, started 30 s ago, rss 120000 kB, idle timeout 600 s, "
            "preloaded /p/.pa/parse/partial_parse.msgpack (201 nodes, sha256 0123456789abcdef, "
            "loaded in 0.50 s), warming up, /p/.pa/worker/abc.sock");
  // A worker from before the preload sends no such field.
  reply.erase("preload");
  EXPECT_NE(StatusLine("abc", reply, 130.4, "s").find("no preloaded manifest"), std::string::npos);
}

TEST(WorkerRunner, WhatTheWorkerCannotServeRunsAsAProcess) {
  fs::path d = TempDir("fallback");
  RecordingRunner fresh;
  WorkerRunner worker(fresh);
  CommandResult result;
  std::string err;
  // Not dbt: straight to the process runner.
  CommandRequest ninja;
  ninja.argv = {"/usr/bin/ninja"};
  EXPECT_TRUE(worker.Run(ninja, &result, &err));
  // dbt whose interpreter does not exist: the worker cannot start; one
  // fresh process instead, never a failure.
  Write(d / "dbt", "#!/nonexistent/python3\n");
  EXPECT_TRUE(worker.Run(Dbt(d / "dbt", d, {"build"}), &result, &err));
  ASSERT_EQ(fresh.runs.size(), 2u);
  EXPECT_EQ(fresh.runs[1][1], "build");
  EXPECT_EQ(result.ran_by, "process");
  // A "worker" that is an interpreter which exits at once: same.
  Write(d / "python3", "#!/bin/sh\nexit 3\n");
  fs::permissions(d / "python3", fs::perms::owner_all);
  Write(d / "dbt2", "#!" + (d / "python3").string() + "\n");
  EXPECT_TRUE(worker.Run(Dbt(d / "dbt2", d, {"build"}), &result, &err));
  EXPECT_EQ(fresh.runs.size(), 3u);
  fs::remove_all(d);
}

}  // namespace
