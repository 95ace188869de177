#include "tools/scout_sim/scout_data.h"

#include <charconv>
#include <cstdio>
#include <string_view>

namespace sb::sim {
namespace {

constexpr const char* kSeverities[] = {"CRITICAL", "HIGH", "MEDIUM", "LOW", "UNSPECIFIED"};
constexpr int kSeverityMax[] = {20, 150, 600, 1000, 50};
constexpr const char* kStreams[] = {"latest-indexed", "production", "staging", "development", "qa"};
struct Policy { const char* id; const char* display_name; };
constexpr Policy kPolicies[] = {
    {"no-fixable-critical-high", "No fixable critical or high vulnerabilities"},
    {"no-high-profile-vulns", "No high-profile vulnerabilities"},
    {"up-to-date-base-images", "No outdated base images"},
    {"supply-chain-attestations", "Supply chain attestations"},
    {"default-non-root-user", "Default non-root user"},
    {"no-agpl-v3-licenses", "No AGPL v3 licenses"},
    {"approved-base-images", "Approved Base Images"},
    {"sonarqube-quality-gates", "SonarQube quality gates passed"},
};
constexpr int kChangePeriod = 32;  // each series changes once every 32 windows, phases spread

uint64_t Mix(uint64_t x) {  // splitmix64 finaliser: a stable, well-spread hash
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

uint64_t HashString(std::string_view s) {
  uint64_t h = 1469598103934665603ULL;  // FNV-1a 64
  for (unsigned char c : s) { h ^= c; h *= 1099511628211ULL; }
  return h;
}

// The epoch of a series: advances once every kChangePeriod windows, with a per-series phase.
int64_t Epoch(int series, int64_t window_index) {
  int64_t shifted = window_index + (series % kChangePeriod);
  return shifted >= 0 ? shifted / kChangePeriod : -((-shifted + kChangePeriod - 1) / kChangePeriod);
}

uint64_t Draw(const OrgSpec& spec, int series, int64_t window_index, uint64_t salt) {
  return Mix(HashString(spec.org) ^ Mix(static_cast<uint64_t>(series) * 1315423911ULL + salt) ^
             Mix(static_cast<uint64_t>(Epoch(series, window_index))));
}

std::string StreamName(int i) {
  if (i < static_cast<int>(std::size(kStreams))) return kStreams[i];
  return "env-" + std::to_string(i);
}

void PolicyAt(int i, std::string* id, std::string* display_name) {
  if (i < static_cast<int>(std::size(kPolicies))) {
    *id = kPolicies[i].id;
    *display_name = kPolicies[i].display_name;
  } else {
    *id = "custom-policy-" + std::to_string(i);
    *display_name = "Custom policy " + std::to_string(i);
  }
}

void AppendInt(std::string* out, int64_t v) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  out->append(buf, end);
}

}  // namespace

OrgSpec SpecForSeriesCount(const std::string& org, int approx_series) {
  OrgSpec spec;
  spec.org = org;
  if (approx_series <= 250) {
    spec.streams = 5;
    spec.policies = approx_series > 25 ? (approx_series - 25) / 10 : 0;
    return spec;
  }
  spec.streams = 100;
  spec.policies = (approx_series - 500) / 200;
  if (spec.policies < 0) spec.policies = 0;
  return spec;
}

double SeriesValue(const OrgSpec& spec, int series, int64_t window_index) {
  int vuln_series = spec.streams * 5;
  if (series < vuln_series) {
    int severity = series % 5;
    return static_cast<double>(Draw(spec, series, window_index, 1) % (kSeverityMax[severity] + 1));
  }
  // Policy series come in pairs (compliant, evaluated) for each (policy, stream).
  int pair = (series - vuln_series) / 2;
  int pair_base = vuln_series + pair * 2;
  // Both series of a pair share the epoch of the evaluated one, so compliant <= evaluated holds
  // in every window.
  int evaluated = static_cast<int>(10 + Draw(spec, pair_base + 1, window_index, 2) % 491);
  if ((series - vuln_series) % 2 == 1) return evaluated;
  return static_cast<double>(Draw(spec, pair_base + 1, window_index, 3) % (evaluated + 1));
}

std::string RenderOrgMetrics(const OrgSpec& spec, int64_t window_index) {
  std::string out;
  out.reserve(static_cast<size_t>(spec.SeriesCount()) * 130 + 512);
  out += "# HELP scout_stream_vulnerabilities Vulnerabilities in the images of a stream, by severity.\n";
  out += "# TYPE scout_stream_vulnerabilities gauge\n";
  int series = 0;
  for (int s = 0; s < spec.streams; ++s) {
    std::string stream = StreamName(s);
    for (int sev = 0; sev < 5; ++sev, ++series) {
      out += "scout_stream_vulnerabilities{streamName=\"";
      out += stream;
      out += "\",severity=\"";
      out += kSeverities[sev];
      out += "\"} ";
      AppendInt(&out, static_cast<int64_t>(SeriesValue(spec, series, window_index)));
      out += '\n';
    }
  }
  // Compliant and evaluated series are interleaved in index order but rendered in two
  // families; index i*2 is compliant, i*2+1 evaluated, for pair i = policy*streams + stream.
  const int vuln_series = series;
  for (int family = 0; family < 2; ++family) {
    const char* name = family == 0 ? "scout_policy_compliant_images" : "scout_policy_evaluated_images";
    out += "# HELP ";
    out += name;
    out += family == 0 ? " Number of images compliant with a policy in a stream.\n"
                       : " Number of images evaluated against a policy in a stream.\n";
    out += "# TYPE ";
    out += name;
    out += " gauge\n";
    std::string id, display_name;
    for (int p = 0; p < spec.policies; ++p) {
      PolicyAt(p, &id, &display_name);
      for (int s = 0; s < spec.streams; ++s) {
        int pair = p * spec.streams + s;
        out += name;
        out += "{id=\"";
        out += id;
        out += "\",displayName=\"";
        out += display_name;
        out += "\",streamName=\"";
        out += StreamName(s);
        out += "\"} ";
        AppendInt(&out, static_cast<int64_t>(SeriesValue(spec, vuln_series + pair * 2 + family, window_index)));
        out += '\n';
      }
    }
  }
  return out;
}

}  // namespace sb::sim
