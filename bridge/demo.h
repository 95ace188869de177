// Demo mode: `scout-bridge demo` starts the bundled Scout simulator in-process on a loopback
// port, with two orgs and their tokens written to files under the storage path, and points
// the bridge at it with the same job blocks a real user would paste.
#pragma once

#include <memory>
#include <ostream>
#include <string>

#include "bridge/app.h"
#include "common/status.h"

namespace sb::bridge {

struct DemoOptions {
  // The simulator's cache window and the bridge's refresh interval (Prometheus duration).
  // Default 60s, so that a person sees values change; the real API caches for 60m.
  std::string window = "60s";
};

struct DemoState;  // owns the simulator; destroy after the App

// Starts the simulator and fills `app`'s in-process config. Errors: the simulator's.
Result<std::shared_ptr<DemoState>> StartDemo(const DemoOptions& options, AppOptions* app);

// Prints the URLs to open.
void PrintDemoUrls(const DemoState& state, int bridge_port, std::ostream& out);

}  // namespace sb::bridge
