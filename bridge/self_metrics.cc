#include "bridge/self_metrics.h"

#include <unistd.h>

#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <dirent.h>
#include <fstream>
#include <sstream>

namespace sb::bridge {
namespace {

constexpr const char* kHandlerNames[] = {"scrape", "metrics", "healthy", "ready", "reload", "targets", "index", "not_found"};

struct ProcStats { double cpu_seconds = 0; double rss_bytes = 0; double vsize_bytes = 0; double open_fds = 0; double max_fds = 0; double threads = 0; };

ProcStats ReadProcStats() {
  ProcStats p;
  std::ifstream f("/proc/self/stat");
  std::string content((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  size_t close = content.rfind(')');
  if (close != std::string::npos) {
    std::istringstream ss(content.substr(close + 2));
    std::vector<std::string> fields;
    std::string tok;
    while (ss >> tok) fields.push_back(tok);
    // fields[0] is field 3 (state); utime=14, stime=15, num_threads=20, vsize=23, rss=24.
    auto at = [&](int field) { size_t i = field - 3; return i < fields.size() ? std::stod(fields[i]) : 0.0; };
    double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
    p.cpu_seconds = (at(14) + at(15)) / ticks;
    p.threads = at(20);
    p.vsize_bytes = at(23);
    p.rss_bytes = at(24) * static_cast<double>(sysconf(_SC_PAGESIZE));
  }
  if (DIR* d = opendir("/proc/self/fd")) {
    int n = 0;
    while (readdir(d) != nullptr) ++n;
    closedir(d);
    p.open_fds = n - 2;
  }
  p.max_fds = static_cast<double>(sysconf(_SC_OPEN_MAX));
  return p;
}

void Header(std::string* out, const char* name, const char* type, const char* help) {
  *out += "# HELP ";
  *out += name;
  *out += ' ';
  *out += help;
  *out += "\n# TYPE ";
  *out += name;
  *out += ' ';
  *out += type;
  *out += '\n';
}

void Sample(std::string* out, const char* name, const std::string& labels, double v) {
  *out += name;
  if (!labels.empty()) {
    *out += '{';
    *out += labels;
    *out += '}';
  }
  *out += ' ';
  *out += FormatValue(v);
  *out += '\n';
}

std::string TargetLabels(const TargetStatus& t) {
  return "job=\"" + EscapeLabelValue(t.job) + "\",instance=\"" + EscapeLabelValue(t.instance) + "\"";
}

}  // namespace

const char* HandlerName(HandlerId h) { return kHandlerNames[static_cast<int>(h)]; }

std::string FormatValue(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, end);
}

SelfMetrics::SelfMetrics()
    : start_time_ms_(std::chrono::duration_cast<std::chrono::milliseconds>(
                         std::chrono::system_clock::now().time_since_epoch()).count()) {
  for (auto& row : http_) for (auto& c : row) c.store(0);
  for (auto& cls : http_other_codes_) for (auto& c : cls) c.store(0);
}

int SelfMetrics::CodeIndex(unsigned code) {
  for (size_t i = 0; i < kCodes.size(); ++i) if (kCodes[i] == code) return static_cast<int>(i);
  return -1;
}

void SelfMetrics::CountHttp(HandlerId handler, unsigned status_code) {
  int h = static_cast<int>(handler);
  int i = CodeIndex(status_code);
  if (i >= 0) {
    http_[h][i].fetch_add(1, std::memory_order_relaxed);
  } else {
    unsigned cls = std::min(status_code / 100, 5u);
    http_other_codes_[cls == 0 ? 0 : cls - 1][h].fetch_add(1, std::memory_order_relaxed);
  }
}

std::string SelfMetrics::Render(const std::vector<TargetStatus>& targets, const ServerStats& server,
                                int64_t now_ms, uint64_t reloads_ok, uint64_t reloads_failed,
                                bool last_reload_ok, int64_t last_reload_ms) const {
  std::string out;
  out.reserve(4096 + targets.size() * 1024);

  Header(&out, "scout_bridge_build_info", "gauge", "A metric with a constant '1' value labeled by version and compiler.");
  Sample(&out, "scout_bridge_build_info", "version=\"0.1.0\",compiler=\"g++ " __VERSION__ "\"", 1);

  Header(&out, "scout_bridge_upstream_requests_total", "counter",
         "Requests sent to upstream exporters, by HTTP status code (\"error\" for network, TLS and timeout errors).");
  for (const auto& t : targets)
    for (const auto& [code, n] : t.requests_by_code)
      Sample(&out, "scout_bridge_upstream_requests_total", TargetLabels(t) + ",code=\"" + code + "\"", static_cast<double>(n));

  Header(&out, "scout_bridge_upstream_up", "gauge", "1 if the last upstream fetch of the target succeeded, 0 otherwise.");
  for (const auto& t : targets) Sample(&out, "scout_bridge_upstream_up", TargetLabels(t), t.health == TargetHealth::kUp ? 1 : 0);

  Header(&out, "scout_bridge_upstream_state", "gauge", "The target's state: unknown (no fetch yet), up, down or auth_error.");
  for (const auto& t : targets)
    for (TargetHealth h : {TargetHealth::kUnknown, TargetHealth::kUp, TargetHealth::kDown, TargetHealth::kAuthError})
      Sample(&out, "scout_bridge_upstream_state", TargetLabels(t) + ",state=\"" + std::string(TargetHealthName(h)) + "\"", t.health == h ? 1 : 0);

  Header(&out, "scout_bridge_upstream_last_success_timestamp_seconds", "gauge", "Time of the last successful upstream fetch (200 or 304).");
  for (const auto& t : targets)
    if (t.last_success_ms) Sample(&out, "scout_bridge_upstream_last_success_timestamp_seconds", TargetLabels(t), *t.last_success_ms / 1000.0);

  Header(&out, "scout_bridge_upstream_data_age_seconds", "gauge", "Age of the data served for the target: now minus the last successful fetch.");
  for (const auto& t : targets)
    if (t.last_success_ms) Sample(&out, "scout_bridge_upstream_data_age_seconds", TargetLabels(t), (now_ms - *t.last_success_ms) / 1000.0);

  Header(&out, "scout_bridge_upstream_next_fetch_timestamp_seconds", "gauge", "When the next upstream fetch of the target may happen.");
  for (const auto& t : targets)
    if (t.next_fetch_ms != INT64_MAX) Sample(&out, "scout_bridge_upstream_next_fetch_timestamp_seconds", TargetLabels(t), t.next_fetch_ms / 1000.0);

  Header(&out, "scout_bridge_upstream_fetch_duration_seconds", "gauge", "Duration of the last upstream fetch, including parsing and rendering.");
  for (const auto& t : targets)
    if (t.last_attempt_ms) Sample(&out, "scout_bridge_upstream_fetch_duration_seconds", TargetLabels(t), t.last_duration_seconds);

  Header(&out, "scout_bridge_upstream_requests_last_hour", "gauge", "Upstream requests (retries included) in the last hour; never above the budget.");
  for (const auto& t : targets) Sample(&out, "scout_bridge_upstream_requests_last_hour", TargetLabels(t), t.requests_last_hour);

  Header(&out, "scout_bridge_upstream_max_requests_per_hour", "gauge", "The configured hourly request budget of the target.");
  for (const auto& t : targets) Sample(&out, "scout_bridge_upstream_max_requests_per_hour", TargetLabels(t), t.max_requests_per_hour);

  Header(&out, "scout_bridge_upstream_samples", "gauge", "Samples in the snapshot served for the target.");
  for (const auto& t : targets) Sample(&out, "scout_bridge_upstream_samples", TargetLabels(t), static_cast<double>(t.samples));

  Header(&out, "scout_bridge_http_requests_total", "counter", "Requests answered by the bridge's HTTP server, by handler and status code.");
  for (int h = 0; h < static_cast<int>(HandlerId::kCount); ++h) {
    for (size_t i = 0; i < kCodes.size(); ++i) {
      uint64_t n = http_[h][i].load(std::memory_order_relaxed);
      if (n) Sample(&out, "scout_bridge_http_requests_total", std::string("handler=\"") + kHandlerNames[h] + "\",code=\"" + std::to_string(kCodes[i]) + "\"", static_cast<double>(n));
    }
    for (int cls = 0; cls < 5; ++cls) {
      uint64_t n = http_other_codes_[cls][h].load(std::memory_order_relaxed);
      if (n) Sample(&out, "scout_bridge_http_requests_total", std::string("handler=\"") + kHandlerNames[h] + "\",code=\"" + std::to_string(cls + 1) + "xx\"", static_cast<double>(n));
    }
  }

  Header(&out, "scout_bridge_http_open_connections", "gauge", "Open client connections.");
  Sample(&out, "scout_bridge_http_open_connections", "", static_cast<double>(server.open_connections));
  Header(&out, "scout_bridge_http_connections_total", "counter", "Accepted client connections.");
  Sample(&out, "scout_bridge_http_connections_total", "", static_cast<double>(server.accepted_connections));
  Header(&out, "scout_bridge_http_rejected_connections_total", "counter", "Connections closed at once because max_connections was reached.");
  Sample(&out, "scout_bridge_http_rejected_connections_total", "", static_cast<double>(server.rejected_connections));

  Header(&out, "scout_bridge_config_last_reload_successful", "gauge", "Whether the last configuration reload attempt was successful.");
  Sample(&out, "scout_bridge_config_last_reload_successful", "", last_reload_ok ? 1 : 0);
  Header(&out, "scout_bridge_config_last_reload_success_timestamp_seconds", "gauge", "Timestamp of the last successful configuration load.");
  Sample(&out, "scout_bridge_config_last_reload_success_timestamp_seconds", "", last_reload_ms / 1000.0);
  Header(&out, "scout_bridge_config_reloads_total", "counter", "Configuration reloads, by result.");
  Sample(&out, "scout_bridge_config_reloads_total", "result=\"success\"", static_cast<double>(reloads_ok));
  Sample(&out, "scout_bridge_config_reloads_total", "result=\"failure\"", static_cast<double>(reloads_failed));

  ProcStats p = ReadProcStats();
  Header(&out, "process_cpu_seconds_total", "counter", "Total user and system CPU time spent in seconds.");
  Sample(&out, "process_cpu_seconds_total", "", p.cpu_seconds);
  Header(&out, "process_resident_memory_bytes", "gauge", "Resident memory size in bytes.");
  Sample(&out, "process_resident_memory_bytes", "", p.rss_bytes);
  Header(&out, "process_virtual_memory_bytes", "gauge", "Virtual memory size in bytes.");
  Sample(&out, "process_virtual_memory_bytes", "", p.vsize_bytes);
  Header(&out, "process_open_fds", "gauge", "Number of open file descriptors.");
  Sample(&out, "process_open_fds", "", p.open_fds);
  Header(&out, "process_max_fds", "gauge", "Maximum number of open file descriptors.");
  Sample(&out, "process_max_fds", "", p.max_fds);
  Header(&out, "process_threads", "gauge", "Number of OS threads in the process.");
  Sample(&out, "process_threads", "", p.threads);
  Header(&out, "process_start_time_seconds", "gauge", "Start time of the process since unix epoch in seconds.");
  Sample(&out, "process_start_time_seconds", "", start_time_ms_ / 1000.0);
  return out;
}

}  // namespace sb::bridge
