#include "promql-lite/api/query_command.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <filesystem>
#include <map>
#include <ostream>
#include <vector>

#include "common/clock.h"
#include "common/duration.h"
#include "promql-lite/api/api.h"
#include "promql-lite/api/json.h"
#include "promql-lite/api/params.h"
#include "promql-lite/engine.h"
#include "storage/store.h"

namespace sb::promql::api {
namespace {

constexpr const char* kUsage =
    "usage: scout-bridge query [--storage.path=DIR] [--time=T | --start=S --end=E --step=D]\n"
    "                          [--format=text|json] [--query.lookback-delta=D]\n"
    "                          [--query.timeout=D] [--query.max-samples=N] 'expr'\n";

// Go's strconv.FormatFloat(v, 'f', -1, 64) (promtool prints values and times this way).
std::string GoFloatF(double v) {
  std::string s;
  AppendGoFloat(&s, v, 'f');
  return s;
}

std::string TimeText(int64_t t_ms) {
  std::string s;
  AppendTimestamp(&s, t_ms);  // seconds with ms; trailing zeros trimmed below
  if (s.find('.') != std::string::npos) {
    while (s.back() == '0') s.pop_back();
  }
  return s;
}

// Prometheus's model.Metric.String(): name{a="b", c="d"}.
std::string MetricText(const storage::Labels& labels) {
  std::string name, rest;
  for (const auto& l : labels) {
    if (l.name == storage::kMetricNameLabel) {
      name = l.value;
      continue;
    }
    if (!rest.empty()) rest += ", ";
    rest += l.name + "=";
    AppendJsonString(&rest, l.value);
  }
  if (rest.empty()) return name.empty() ? "{}" : name;
  return name + "{" + rest + "}";
}

int Usage(std::ostream& err, const std::string& msg) {
  if (!msg.empty()) err << "scout-bridge query: " << msg << "\n\n";
  err << kUsage;
  return 2;
}

}  // namespace

std::string FormatValueText(const Value& value) {
  std::string out;
  switch (value.type) {
    case ValueType::kScalar:
      out = "scalar: " + GoFloatF(value.scalar) + " @[" + TimeText(value.t) + "]\n";
      break;
    case ValueType::kString:
      out = value.str + "\n";
      break;
    case ValueType::kVector:
      for (const auto& s : value.series) {
        if (s.points.empty()) continue;
        out += MetricText(s.labels) + " => " + GoFloatF(s.points.back().v) + " @[" + TimeText(s.points.back().t) +
               "]\n";
      }
      break;
    case ValueType::kMatrix:
      for (const auto& s : value.series) {
        out += MetricText(s.labels) + " =>\n";
        for (const auto& p : s.points) out += GoFloatF(p.v) + " @[" + TimeText(p.t) + "]\n";
      }
      break;
  }
  return out;
}

int QueryCommand(int argc, char** argv, std::ostream& out, std::ostream& err) {
  std::map<std::string, std::string> flags = {{"storage.path", "data/"}, {"format", "text"}};
  const std::vector<std::string> known = {"storage.path", "time",  "start", "end", "step", "format",
                                          "query.lookback-delta", "query.timeout", "query.max-samples"};
  std::vector<std::string> args;
  for (int i = 2; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--help" || a == "-h") {
      out << kUsage;
      return 0;
    }
    if (a.rfind("--", 0) != 0 || a == "--") {
      args.push_back(a == "--" && i + 1 < argc ? argv[++i] : a);
      continue;
    }
    std::string name = a.substr(2), value;
    size_t eq = name.find('=');
    if (eq != std::string::npos) {
      value = name.substr(eq + 1);
      name.resize(eq);
    } else if (i + 1 < argc) {
      value = argv[++i];
    } else {
      return Usage(err, "flag --" + name + " needs a value");
    }
    if (std::find(known.begin(), known.end(), name) == known.end()) return Usage(err, "unknown flag --" + name);
    flags[name] = value;
  }
  if (args.size() != 1) return Usage(err, args.empty() ? "missing the expression" : "more than one expression");
  const std::string& expr = args[0];
  if (flags["format"] != "text" && flags["format"] != "json") {
    return Usage(err, "--format must be text or json, not \"" + flags["format"] + "\"");
  }
  EngineOptions eo;
  eo.lookback_delta = kDefaultLookbackDelta;
  for (const char* dflag : {"query.lookback-delta", "query.timeout"}) {
    if (!flags.count(dflag)) continue;
    auto d = ParseDuration(flags[dflag]);
    if (!d.ok() || d->count() <= 0) {
      return Usage(err, "invalid --" + std::string(dflag) + " \"" + flags[dflag] + "\" (a duration like 1h5m)");
    }
    (std::string(dflag) == "query.timeout" ? eo.timeout : eo.lookback_delta) = *d;
  }
  if (flags.count("query.max-samples")) {
    const std::string& s = flags["query.max-samples"];
    int64_t v = 0;
    auto r = std::from_chars(s.data(), s.data() + s.size(), v);
    if (r.ec != std::errc() || r.ptr != s.data() + s.size() || v <= 0) {
      return Usage(err, "invalid --query.max-samples \"" + s + "\" (a positive integer)");
    }
    eo.max_samples = v;
  }
  bool range = flags.count("start") || flags.count("end") || flags.count("step");
  if (range && flags.count("time")) return Usage(err, "--time cannot be combined with --start/--end/--step");
  if (range && !(flags.count("start") && flags.count("end") && flags.count("step"))) {
    return Usage(err, "a range query needs --start, --end and --step");
  }
  int64_t t = 0, start = 0, end = 0, step_ms = 0;
  auto time_flag = [&](const char* name, int64_t* dst) -> bool {
    auto v = ParseTime(flags[name]);
    if (!v.ok()) {
      Usage(err, "invalid --" + std::string(name) + ": " + v.status().message());
      return false;
    }
    *dst = *v;
    return true;
  };
  if (range) {
    if (!time_flag("start", &start) || !time_flag("end", &end)) return 2;
    auto step = ParseDurationNs(flags["step"]);
    if (!step.ok() || *step < 1000000) {
      return Usage(err, "invalid --step \"" + flags["step"] + "\" (seconds or a duration, at least 1ms)");
    }
    step_ms = *step / 1000000;
  } else if (flags.count("time")) {
    if (!time_flag("time", &t)) return 2;
  } else {
    t = SystemClock::Default()->NowMs();
  }

  std::filesystem::path db = std::filesystem::path(flags["storage.path"]) / "bridge.db";
  std::error_code ec;
  if (!std::filesystem::exists(db, ec)) {
    err << "scout-bridge query: no store at " << db.string() << " (set --storage.path)\n";
    return 1;
  }
  storage::StoreOptions so;
  so.path = db.string();
  auto store = storage::Store::Open(so);
  if (!store.ok()) {
    err << "scout-bridge query: opening the store: " << store.status().message() << "\n";
    return 1;
  }
  StoreQueryable q(store->get());
  Engine engine(&q, eo);
  auto r = range ? engine.Range(expr, start, end, step_ms) : engine.Instant(expr, t);
  if (!r.ok()) {
    const Status& st = r.status();
    const char* type = st.code() == Status::Code::kInvalidArgument ? "bad_data"
                       : st.code() == Status::Code::kUnavailable   ? "timeout"
                       : (st.code() == Status::Code::kResourceExhausted || st.code() == Status::Code::kUnimplemented)
                           ? "execution"
                           : "internal";
    err << "query error: " << type << ": " << st.message() << "\n";
    return 1;
  }
  for (const auto& w : r->warnings) err << "warning: " << w << "\n";
  if (flags["format"] == "json") {
    std::string data;
    AppendQueryData(&data, r->value);
    out << data << "\n";
  } else {
    out << FormatValueText(r->value);
  }
  return 0;
}

}  // namespace sb::promql::api
