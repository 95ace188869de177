#include "common/log.h"

#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <ctime>

#include "common/clock.h"

namespace sb {
namespace {
std::atomic<int> g_level{static_cast<int>(LogLevel::kInfo)};
std::atomic<int> g_format{static_cast<int>(LogFormat::kLogfmt)};
std::atomic<int> g_fd{2};

const char* LevelName(LogLevel l) {
  switch (l) {
    case LogLevel::kError: return "error";
    case LogLevel::kWarn: return "warn";
    case LogLevel::kInfo: return "info";
    case LogLevel::kDebug: return "debug";
  }
  return "info";
}

std::string Timestamp(int64_t ts_ms) {
  time_t secs = ts_ms / 1000;
  struct tm tm;
  gmtime_r(&secs, &tm);
  char buf[64];
  snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
           tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ts_ms % 1000));
  return buf;
}

bool NeedsQuoting(std::string_view v) {
  if (v.empty()) return true;
  for (char c : v) {
    if (c <= ' ' || c == '"' || c == '=' || c == '\\' || c == 0x7f) return true;
  }
  return false;
}

void AppendEscaped(std::string* out, std::string_view v, bool json) {
  for (unsigned char c : v) {
    switch (c) {
      case '"': *out += "\\\""; break;
      case '\\': *out += "\\\\"; break;
      case '\n': *out += "\\n"; break;
      case '\r': *out += "\\r"; break;
      case '\t': *out += "\\t"; break;
      default:
        if (c < 0x20) {
          char buf[8];
          snprintf(buf, sizeof buf, json ? "\\u%04x" : "\\x%02x", c);
          *out += buf;
        } else {
          *out += static_cast<char>(c);
        }
    }
  }
}

void AppendLogfmt(std::string* out, std::string_view key, std::string_view value) {
  if (!out->empty()) *out += ' ';
  *out += key;
  *out += '=';
  if (NeedsQuoting(value)) {
    *out += '"';
    AppendEscaped(out, value, false);
    *out += '"';
  } else {
    *out += value;
  }
}

void AppendJson(std::string* out, std::string_view key, std::string_view value) {
  *out += out->size() > 1 ? ",\"" : "\"";
  AppendEscaped(out, key, true);
  *out += "\":\"";
  AppendEscaped(out, value, true);
  *out += '"';
}
}  // namespace

bool ParseLogLevel(std::string_view t, LogLevel* out) {
  if (t == "error") *out = LogLevel::kError;
  else if (t == "warn") *out = LogLevel::kWarn;
  else if (t == "info") *out = LogLevel::kInfo;
  else if (t == "debug") *out = LogLevel::kDebug;
  else return false;
  return true;
}

bool ParseLogFormat(std::string_view t, LogFormat* out) {
  if (t == "logfmt") *out = LogFormat::kLogfmt;
  else if (t == "json") *out = LogFormat::kJson;
  else return false;
  return true;
}

void SetLogLevel(LogLevel level) { g_level = static_cast<int>(level); }
void SetLogFormat(LogFormat format) { g_format = static_cast<int>(format); }
void SetLogFd(int fd) { g_fd = fd; }
bool LogEnabled(LogLevel level) { return static_cast<int>(level) <= g_level.load(); }

std::string FormatLogLine(LogFormat format, int64_t ts_ms, LogLevel level, std::string_view msg,
                          std::initializer_list<LogField> fields) {
  std::string out;
  out.reserve(128);
  if (format == LogFormat::kJson) {
    out = "{";
    AppendJson(&out, "ts", Timestamp(ts_ms));
    AppendJson(&out, "level", LevelName(level));
    AppendJson(&out, "msg", msg);
    for (const auto& f : fields) AppendJson(&out, f.first, f.second);
    out += "}\n";
  } else {
    AppendLogfmt(&out, "ts", Timestamp(ts_ms));
    AppendLogfmt(&out, "level", LevelName(level));
    AppendLogfmt(&out, "msg", msg);
    for (const auto& f : fields) AppendLogfmt(&out, f.first, f.second);
    out += '\n';
  }
  return out;
}

void Log(LogLevel level, std::string_view msg, std::initializer_list<LogField> fields) {
  if (!LogEnabled(level)) return;
  std::string line = FormatLogLine(static_cast<LogFormat>(g_format.load()),
                                   SystemClock::Default()->NowMs(), level, msg, fields);
  ssize_t unused = ::write(g_fd.load(), line.data(), line.size());
  (void)unused;
}

}  // namespace sb
