// scout-sim: runs the Scout exporter simulator until SIGINT or SIGTERM.
//
//   scout-sim --listen 127.0.0.1:0 --window 3600s --orgs acme:tokenA,globex:tokenB
//             [--series 250] [--tls-cert cert.pem --tls-key key.pem] [--cache-headers]
//             [--port-file FILE] [--threads 1]
//
// An org may carry its own size: --orgs acme:tokenA:100000. The bound port is printed alone
// on the first line of stdout and, with --port-file, written to FILE (atomically, via a
// rename), so that scripts can start it on port 0.
#include <signal.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "common/duration.h"
#include "common/log.h"
#include "tools/scout_sim/simulator.h"

namespace {

int Usage(const std::string& error) {
  std::cerr << "scout-sim: " << error << "\n"
            << "usage: scout-sim --orgs ORG:TOKEN[:SERIES][,...] [--listen HOST:PORT]\n"
            << "                 [--window DURATION] [--series N] [--cache-headers]\n"
            << "                 [--tls-cert FILE --tls-key FILE] [--port-file FILE]\n"
            << "                 [--threads N]\n";
  return 2;
}

std::vector<std::string> Split(const std::string& s, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  for (;;) {
    size_t pos = s.find(sep, start);
    out.push_back(s.substr(start, pos - start));
    if (pos == std::string::npos) return out;
    start = pos + 1;
  }
}

}  // namespace

int main(int argc, char** argv) {
  sb::sim::ScoutSimulator::Options options;
  options.listen_address = "127.0.0.1:0";
  std::string orgs_flag, port_file;
  int series = 250;

  std::vector<std::string> args(argv + 1, argv + argc);
  for (size_t i = 0; i < args.size(); ++i) {
    std::string flag = args[i], value;
    bool has_value = false;
    if (size_t eq = flag.find('='); eq != std::string::npos) {
      value = flag.substr(eq + 1);
      flag = flag.substr(0, eq);
      has_value = true;
    }
    auto take = [&]() -> bool {
      if (has_value) return true;
      if (i + 1 >= args.size()) return false;
      value = args[++i];
      return true;
    };
    if (flag == "--cache-headers") {
      options.cache_headers = true;
    } else if (flag == "-h" || flag == "--help") {
      Usage("help");
      return 0;
    } else if (!take()) {
      return Usage("flag " + flag + " needs a value (or is unknown)");
    } else if (flag == "--listen") {
      options.listen_address = value;
    } else if (flag == "--window") {
      auto d = sb::ParseDuration(value);
      if (!d.ok() || d->count() <= 0) return Usage("--window: bad duration \"" + value + "\"");
      options.window = *d;
    } else if (flag == "--orgs") {
      orgs_flag = value;
    } else if (flag == "--series") {
      series = std::atoi(value.c_str());
    } else if (flag == "--tls-cert") {
      options.tls_cert_file = value;
    } else if (flag == "--tls-key") {
      options.tls_key_file = value;
    } else if (flag == "--port-file") {
      port_file = value;
    } else if (flag == "--threads") {
      options.threads = std::atoi(value.c_str());
    } else {
      return Usage("unknown flag " + flag);
    }
  }
  if (orgs_flag.empty()) return Usage("--orgs is required");
  for (const std::string& item : Split(orgs_flag, ',')) {
    std::vector<std::string> parts = Split(item, ':');
    if (parts.size() < 2 || parts.size() > 3 || parts[0].empty() || parts[1].empty()) {
      return Usage("--orgs: want ORG:TOKEN[:SERIES], got \"" + item + "\"");
    }
    sb::sim::ScoutSimulator::OrgConfig cfg;
    cfg.token = parts[1];
    cfg.approx_series = parts.size() == 3 ? std::atoi(parts[2].c_str()) : series;
    if (cfg.approx_series < 1) return Usage("--orgs: bad series count in \"" + item + "\"");
    options.orgs[parts[0]] = cfg;
  }

  // Block the stop signals in every thread (the I/O threads inherit the mask), then wait
  // for them here.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  sb::sim::ScoutSimulator sim(options);
  sb::Status status = sim.Start();
  if (!status.ok()) {
    sb::LogError("scout-sim failed to start", {{"error", status.ToString()}});
    return 1;
  }
  std::cout << sim.port() << std::endl;
  if (!port_file.empty()) {
    std::string tmp = port_file + ".tmp";
    {
      std::ofstream out(tmp, std::ios::trunc);
      out << sim.port() << "\n";
      if (!out) {
        sb::LogError("cannot write port file", {{"path", port_file}});
        return 1;
      }
    }
    if (std::rename(tmp.c_str(), port_file.c_str()) != 0) {
      sb::LogError("cannot write port file", {{"path", port_file}});
      return 1;
    }
  }
  sb::LogInfo("scout-sim listening",
              {{"address", options.listen_address},
               {"port", std::to_string(sim.port())},
               {"tls", options.tls_cert_file.empty() ? "false" : "true"},
               {"orgs", std::to_string(options.orgs.size())},
               {"window", sb::FormatDuration(options.window)}});
  int sig = 0;
  sigwait(&signals, &sig);
  sb::LogInfo("scout-sim stopping", {{"signal", std::to_string(sig)}});
  sim.Stop();
  return 0;
}
