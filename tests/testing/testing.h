// Shared test helpers: Status matchers, temporary directories, child processes for real
// peers (Prometheus, nginx, ...), and waiting for a loopback port to accept connections.
#pragma once

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

#include "common/status.h"

#define ASSERT_OK(expr)                                      \
  do {                                                       \
    const auto& _s = (expr);                                 \
    ASSERT_TRUE(::sb::testing::StatusOf(_s).ok()) << ::sb::testing::StatusOf(_s).ToString(); \
  } while (0)
#define EXPECT_OK(expr)                                      \
  do {                                                       \
    const auto& _s = (expr);                                 \
    EXPECT_TRUE(::sb::testing::StatusOf(_s).ok()) << ::sb::testing::StatusOf(_s).ToString(); \
  } while (0)

namespace sb::testing {

inline const Status& StatusOf(const Status& s) { return s; }
template <typename T>
const Status& StatusOf(const Result<T>& r) { return r.status(); }

// A fresh directory under $TMPDIR, removed (recursively) by the destructor.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::string& path() const { return path_; }
  std::string File(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// Writes `content` to `path`, replacing it. Aborts the test on failure.
void WriteFile(const std::string& path, const std::string& content);
std::string ReadFile(const std::string& path);

// Returns a TCP port on 127.0.0.1 that was free a moment ago (bind to :0, read it back,
// close). For peers that must be given a port on their command line.
int PickFreePort();

// Waits until 127.0.0.1:port accepts a TCP connection, up to `timeout`. Returns false on timeout.
bool WaitForPort(int port, std::chrono::milliseconds timeout);

// A child process, started with fork/exec; its stdout and stderr go to `log_path`.
// The destructor sends SIGTERM, waits up to 5 s, then SIGKILLs: a peer is always stopped.
class Subprocess {
 public:
  Subprocess(std::vector<std::string> argv, std::string log_path);
  ~Subprocess();
  Subprocess(const Subprocess&) = delete;
  Subprocess& operator=(const Subprocess&) = delete;
  pid_t pid() const { return pid_; }
  bool running();
  // Sends `sig` and reaps. Returns the wait status.
  int Stop(int sig = 15);

 private:
  pid_t pid_ = -1;
  bool reaped_ = false;
  int status_ = 0;
};

// Runs a command to completion, capturing stdout+stderr. Returns the exit code (-1 on a
// signal). The command runs with a time limit; on expiry it is killed.
int RunCommand(const std::vector<std::string>& argv, std::string* output,
               std::chrono::seconds time_limit = std::chrono::seconds(60));

// Finds an executable on PATH or in the given absolute path; empty if not found.
std::string FindExecutable(const std::string& name);

// Blocking HTTP/1.1 GET/POST to 127.0.0.1:port for tests. Returns the status code, or -1
// on a connection error; fills body and (optionally) the raw response headers.
int HttpRequest(int port, const std::string& method, const std::string& target,
                const std::vector<std::pair<std::string, std::string>>& headers,
                const std::string& request_body, std::string* body,
                std::string* raw_headers = nullptr);

}  // namespace sb::testing
