// scout-bridge: command-line entry point.
//
//   scout-bridge [flags]                 run the bridge (--config.file required)
//   scout-bridge check config FILE...    validate configuration files; exit 0 or 1
//   scout-bridge demo [flags]            run against the bundled Scout simulator
//   scout-bridge query [flags] EXPR      evaluate PromQL on the local store (promql-lite/api)
//   scout-bridge tsdb analyze|dump|import ...   inspect and backfill the store (bridge/tsdb_command.h)
//   scout-bridge --version | --help
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include "bridge/app.h"
#include "bridge/demo.h"
#include "bridge/tsdb_command.h"
#include "bridge/recommendations_command.h"
#include "common/duration.h"
#include "promql-lite/api/query_command.h"
#include "common/log.h"
#include "config/config.h"

namespace {

using sb::Status;

constexpr const char* kUsage = R"(usage: scout-bridge [flags]
       scout-bridge check config FILE...
       scout-bridge demo [flags]
       scout-bridge query [--storage.path=DIR] [--time=T | --start=S --end=E --step=D] EXPR
       scout-bridge tsdb analyze [--storage.path=DIR] [--limit=N]
       scout-bridge tsdb dump [--storage.path=DIR] [--match=SELECTOR ...] [--start=TIME] [--end=TIME]
       scout-bridge tsdb import --format=openmetrics FILE [--storage.path=DIR]
       scout-bridge recommendations ingest PATH|s3://BUCKET[/PREFIX] [--storage.path=DIR] [--s3.endpoint=URL]
       scout-bridge recommendations export --format=cypher|json [--storage.path=DIR]

Scrapes slow, cached Prometheus exporters (Docker Scout's first of all) on a polite schedule
and re-serves their data at a fast, drop-in scrape endpoint.

Flags:
  --config.file=FILE            configuration file (Prometheus-shaped YAML)
  --web.listen-address=ADDR     address to listen on (default ":9688")
  --web.max-connections=N       maximum open connections (default 1024)
  --web.tls-cert-file=FILE      serve HTTPS with this certificate (with --web.tls-key-file)
  --web.tls-key-file=FILE
  --storage.path=DIR            data directory (default "data/")
  --storage.retention.time=D    drop stored samples older than this, whole chunks at a time
                                (default 365d; 0 = keep everything)
  --storage.retention.size=SIZE keep the store under this size, e.g. 10GB, dropping the oldest
                                chunks first (default 0 = no limit)
  --query.lookback-delta=D      how far back an instant selector looks (default: the longest
                                refresh interval of the jobs plus 5m, at least 1h5m)
  --query.timeout=D             maximum time one query may take (default 2m)
  --query.max-samples=N         maximum samples one query may load (default 50000000)
  --log.level=LEVEL             error, warn, info or debug (default info)
  --log.format=FORMAT           logfmt or json (default logfmt)
  --version                     print the version and exit
)";

struct Flags {
  std::map<std::string, std::string> values;
  std::vector<std::string> positional;
};

// Parses "--name=value" and "--name value". Unknown flags are an error naming the flag.
bool ParseFlags(int argc, char** argv, int start, const std::vector<std::string>& known, Flags* out, std::string* err) {
  for (int i = start; i < argc; ++i) {
    std::string a = argv[i];
    if (a.rfind("--", 0) != 0) {
      out->positional.push_back(a);
      continue;
    }
    std::string name = a.substr(2), value;
    size_t eq = name.find('=');
    bool has_value = eq != std::string::npos;
    if (has_value) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
    }
    if (std::find(known.begin(), known.end(), name) == known.end()) {
      *err = "unknown flag --" + name;
      return false;
    }
    if (!has_value) {
      if (i + 1 >= argc) {
        *err = "flag --" + name + " needs a value";
        return false;
      }
      value = argv[++i];
    }
    out->values[name] = value;
  }
  return true;
}

volatile sig_atomic_t g_signal = 0;

void OnSignal(int sig) {
  // Only async-signal-safe work here: the main thread polls g_signal.
  g_signal = sig;
}

// Runs the app until SIGINT/SIGTERM; SIGHUP reloads.
int RunUntilSignalled(sb::bridge::App& app) {
  struct sigaction sa {};
  sa.sa_handler = OnSignal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGHUP, &sa, nullptr);
  for (;;) {
    int sig = g_signal;
    if (sig == SIGHUP) {
      g_signal = 0;
      sb::LogInfo("SIGHUP received: reloading config");
      (void)app.Reload();  // logged by Reload
    } else if (sig == SIGINT || sig == SIGTERM) {
      sb::LogInfo("received signal, exiting", {{"signal", sig == SIGINT ? "SIGINT" : "SIGTERM"}});
      app.Stop();
      return 0;
    }
    usleep(100 * 1000);
  }
}

bool ApplyLogFlags(const Flags& f) {
  if (auto it = f.values.find("log.level"); it != f.values.end()) {
    sb::LogLevel level;
    if (!sb::ParseLogLevel(it->second, &level)) {
      std::cerr << "scout-bridge: invalid --log.level \"" << it->second << "\" (error, warn, info, debug)\n";
      return false;
    }
    sb::SetLogLevel(level);
  }
  if (auto it = f.values.find("log.format"); it != f.values.end()) {
    sb::LogFormat format;
    if (!sb::ParseLogFormat(it->second, &format)) {
      std::cerr << "scout-bridge: invalid --log.format \"" << it->second << "\" (logfmt, json)\n";
      return false;
    }
    sb::SetLogFormat(format);
  }
  return true;
}

void ApplyAppFlags(const Flags& f, sb::bridge::AppOptions* o) {
  auto get = [&](const char* name, std::string* dst) {
    if (auto it = f.values.find(name); it != f.values.end()) *dst = it->second;
  };
  get("config.file", &o->config_file);
  get("web.listen-address", &o->listen_address);
  get("storage.path", &o->storage_path);
  get("web.tls-cert-file", &o->tls_cert_file);
  get("web.tls-key-file", &o->tls_key_file);
  if (auto it = f.values.find("web.max-connections"); it != f.values.end()) {
    o->max_connections = std::stoul(it->second);
  }
}

// --query.*: the PromQL engine of /api/v1/query*. Prints the error and returns false on a bad value.
bool ApplyQueryFlags(const Flags& f, sb::bridge::AppOptions* o) {
  for (const char* name : {"query.lookback-delta", "query.timeout"}) {
    auto it = f.values.find(name);
    if (it == f.values.end()) continue;
    auto d = sb::ParseDuration(it->second);
    if (!d.ok() || d->count() <= 0) {
      std::cerr << "scout-bridge: invalid --" << name << " \"" << it->second << "\" (a duration like 1h5m)\n";
      return false;
    }
    if (std::string(name) == "query.timeout") {
      o->query.timeout = *d;
    } else {
      o->query.lookback_delta = *d;
      o->query_lookback_delta_set = true;
    }
  }
  if (auto it = f.values.find("query.max-samples"); it != f.values.end()) {
    char* end = nullptr;
    long long v = std::strtoll(it->second.c_str(), &end, 10);
    if (it->second.empty() || *end != '\0' || v <= 0) {
      std::cerr << "scout-bridge: invalid --query.max-samples \"" << it->second << "\" (a positive integer)\n";
      return false;
    }
    o->query.max_samples = v;
  }
  return true;
}

// --storage.retention.*: prints the error and returns false on a bad value.
bool ApplyStorageFlags(const Flags& f, sb::bridge::AppOptions* o) {
  if (auto it = f.values.find("storage.retention.time"); it != f.values.end()) {
    auto d = sb::ParseDuration(it->second);
    if (!d.ok() || d->count() < 0) {
      std::cerr << "scout-bridge: invalid --storage.retention.time \"" << it->second
                << "\" (a duration like 365d or 90d; 0 keeps everything)\n";
      return false;
    }
    o->storage_retention_time = std::chrono::duration_cast<std::chrono::milliseconds>(*d);
  }
  if (auto it = f.values.find("storage.retention.size"); it != f.values.end()) {
    auto n = sb::config::ParseByteSize(it->second);
    if (!n.ok() || *n < 0) {
      std::cerr << "scout-bridge: invalid --storage.retention.size \"" << it->second
                << "\" (a size like 512MB or 10GB; 0 = no limit)\n";
      return false;
    }
    o->storage_retention_size_bytes = *n;
  }
  return true;
}

const std::vector<std::string> kRunFlags = {"config.file", "web.listen-address", "web.max-connections",
                                            "web.tls-cert-file", "web.tls-key-file", "storage.path",
                                            "storage.retention.time", "storage.retention.size",
                                            "log.level", "log.format", "query.lookback-delta",
                                            "query.timeout", "query.max-samples"};

int CheckConfig(int argc, char** argv) {
  if (argc < 4) {
    std::cerr << "usage: scout-bridge check config FILE...\n";
    return 2;
  }
  int failed = 0;
  for (int i = 3; i < argc; ++i) {
    std::cout << "Checking " << argv[i] << "\n" << std::flush;
    auto cfg = sb::config::LoadConfigFile(argv[i]);
    if (!cfg.ok()) {
      std::cerr << "  FAILED: " << cfg.status().message() << "\n";
      ++failed;
      continue;
    }
    std::map<std::string, int> paths;
    size_t targets = 0;
    for (const auto& job : cfg->scrape_configs) {
      paths[job.metrics_path]++;
      for (const auto& sc : job.static_configs) targets += sc.targets.size();
    }
    std::cout << "  SUCCESS: " << cfg->scrape_configs.size() << " jobs, "
              << targets << " targets, " << cfg->remote_write.size() << " remote_write endpoints\n";
    for (const auto& [path, n] : paths) {
      if (n > 1) std::cout << "  WARNING: " << n << " jobs share the path " << path << "; clients select one with ?job=\n";
      if (path == "/metrics") std::cout << "  WARNING: a job serves /metrics, which hides the bridge's own metrics\n";
    }
  }
  return failed ? 1 : 0;
}

}  // namespace

int main(int argc, char** argv) {
  signal(SIGPIPE, SIG_IGN);
  if (argc >= 2 && (std::strcmp(argv[1], "--help") == 0 || std::strcmp(argv[1], "-h") == 0)) {
    std::cout << kUsage;
    return 0;
  }
  if (argc >= 2 && std::strcmp(argv[1], "--version") == 0) {
    std::cout << "scout-bridge, version 0.1.0 (g++ " << __VERSION__ << ")\n";
    return 0;
  }
  if (argc >= 3 && std::strcmp(argv[1], "check") == 0 && std::strcmp(argv[2], "config") == 0) {
    return CheckConfig(argc, argv);
  }
  if (argc >= 2 && std::strcmp(argv[1], "tsdb") == 0) return sb::bridge::TsdbCommand(argc, argv);
  if (argc >= 2 && std::strcmp(argv[1], "recommendations") == 0) return sb::bridge::RecommendationsCommand(argc, argv);
  if (argc >= 2 && std::strcmp(argv[1], "query") == 0) return sb::promql::api::QueryCommand(argc, argv, std::cout, std::cerr);
  bool demo = argc >= 2 && std::strcmp(argv[1], "demo") == 0;
  Flags flags;
  std::string err;
  std::vector<std::string> known = kRunFlags;
  if (demo) known.push_back("demo.window");
  if (!ParseFlags(argc, argv, demo ? 2 : 1, known, &flags, &err)) {
    std::cerr << "scout-bridge: " << err << "\n\n" << kUsage;
    return 2;
  }
  if (!flags.positional.empty()) {
    std::cerr << "scout-bridge: unexpected argument \"" << flags.positional[0] << "\"\n\n" << kUsage;
    return 2;
  }
  if (!ApplyLogFlags(flags)) return 2;
  sb::bridge::AppOptions options;
  ApplyAppFlags(flags, &options);
  if (!ApplyStorageFlags(flags, &options)) return 2;
  if (!ApplyQueryFlags(flags, &options)) return 2;

  if (demo) {
    sb::bridge::DemoOptions d;
    if (auto it = flags.values.find("demo.window"); it != flags.values.end()) d.window = it->second;
    if (!flags.values.count("web.listen-address")) options.listen_address = "127.0.0.1:9688";
    auto demo_state = sb::bridge::StartDemo(d, &options);
    if (!demo_state.ok()) {
      std::cerr << "scout-bridge demo: " << demo_state.status().message() << "\n";
      return 1;
    }
    sb::bridge::App app(options);
    Status st = app.Start();
    if (!st.ok()) {
      std::cerr << "scout-bridge demo: " << st.message() << "\n";
      return 1;
    }
    sb::bridge::PrintDemoUrls(**demo_state, app.port(), std::cout);
    int rc = RunUntilSignalled(app);
    return rc;
  }

  if (options.config_file.empty()) {
    std::cerr << "scout-bridge: --config.file is required (or run `scout-bridge demo`)\n\n" << kUsage;
    return 2;
  }
  sb::bridge::App app(options);
  Status st = app.Start();
  if (!st.ok()) {
    sb::LogError("cannot start", {{"err", st.message()}});
    return 1;
  }
  return RunUntilSignalled(app);
}
