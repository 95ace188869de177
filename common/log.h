// Structured logging: one line per event, logfmt ("ts=... level=info msg=... key=value") or
// JSON, chosen at start-up (--log.format). Levels error < warn < info < debug (--log.level).
// Counts belong in /metrics, not in logs.
//
// Secrets: never pass a token or password as a field. Values of type sb::Secret print as
// "<secret>" wherever they go.
//
// Thread-safety: Log() may be called from any thread; each event is written with one write(2).
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

namespace sb {

enum class LogLevel { kError = 0, kWarn = 1, kInfo = 2, kDebug = 3 };
enum class LogFormat { kLogfmt, kJson };

// Parses "error|warn|info|debug" and "logfmt|json". Return false on an unknown name.
bool ParseLogLevel(std::string_view text, LogLevel* out);
bool ParseLogFormat(std::string_view text, LogFormat* out);

// Global settings; set once at start-up before threads are started.
void SetLogLevel(LogLevel level);
void SetLogFormat(LogFormat format);
// Redirects output to the given fd (default 2, stderr). For tests.
void SetLogFd(int fd);
bool LogEnabled(LogLevel level);

using LogField = std::pair<std::string_view, std::string>;

// Writes one event. Fields are written in order after ts, level and msg.
void Log(LogLevel level, std::string_view msg, std::initializer_list<LogField> fields = {});

inline void LogError(std::string_view msg, std::initializer_list<LogField> f = {}) { Log(LogLevel::kError, msg, f); }
inline void LogWarn(std::string_view msg, std::initializer_list<LogField> f = {}) { Log(LogLevel::kWarn, msg, f); }
inline void LogInfo(std::string_view msg, std::initializer_list<LogField> f = {}) { Log(LogLevel::kInfo, msg, f); }
inline void LogDebug(std::string_view msg, std::initializer_list<LogField> f = {}) {
  if (LogEnabled(LogLevel::kDebug)) Log(LogLevel::kDebug, msg, f);
}

// Formats one event without writing it (used by Log and by tests).
std::string FormatLogLine(LogFormat format, int64_t ts_ms, LogLevel level, std::string_view msg,
                          std::initializer_list<LogField> fields);

}  // namespace sb
