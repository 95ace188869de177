#include "tests/integration/promql_peers.h"

#include <cmath>
#include <functional>
#include <map>
#include <thread>


namespace sb::itest {
namespace json = boost::json;
using namespace std::chrono_literals;

namespace {

// Polls `pred` every 50 ms until it holds or `timeout` passes.
bool WaitUntil(const std::function<bool()>& pred, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(50ms);
  }
  return pred();
}

}  // namespace

std::string UrlEncodeComponent(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    if (isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      char b[4];
      snprintf(b, sizeof b, "%%%02X", c);
      out += b;
    }
  }
  return out;
}

std::string PromqlPeers::bridge_binary() const { return std::string(SB_BINARY_DIR) + "/scout-bridge"; }

PromqlPeers::PromqlPeers(const std::string& openmetrics) {
  std::string prometheus = testing::FindExecutable("prometheus");
  std::string promtool = testing::FindExecutable("promtool");
  if (prometheus.empty() || promtool.empty()) {
    error_ = "prometheus/promtool not installed: run scripts/install-deps.sh";
    return;
  }
  testing::WriteFile(dir_.File("data.om"), openmetrics);
  std::string out;
  // Few large blocks: the default 2h blocks make 360 of them for 30 days, which takes minutes.
  int rc = testing::RunCommand({promtool, "tsdb", "create-blocks-from", "openmetrics", "--max-block-duration=744h", dir_.File("data.om"),
                                dir_.File("prom-tsdb")}, &out, 60s);
  if (rc != 0) {
    error_ = "promtool create-blocks-from openmetrics failed: " + out;
    return;
  }
  rc = testing::RunCommand({bridge_binary(), "tsdb", "import", "--format=openmetrics", dir_.File("data.om"),
                            "--storage.path=" + dir_.File("bridge-data")}, &out, 60s);
  if (rc != 0) {
    error_ = "scout-bridge tsdb import failed: " + out;
    return;
  }
  testing::WriteFile(dir_.File("prometheus.yml"), "global:\n  scrape_interval: 1h\n");
  testing::WriteFile(dir_.File("bridge.yml"), "global:\n  scrape_interval: 1m\nscrape_configs: []\n");
  prom_port_ = testing::PickFreePort();
  // Retention is measured from the newest block: without a long one Prometheus would drop
  // the older half of a 30-day backfill.
  prometheus_ = std::make_unique<testing::Subprocess>(
      std::vector<std::string>{prometheus, "--config.file=" + dir_.File("prometheus.yml"),
                               "--storage.tsdb.path=" + dir_.File("prom-tsdb"),
                               "--storage.tsdb.retention.time=100y",
                               "--query.lookback-delta=" + std::string(kLookbackProm),
                               "--web.listen-address=127.0.0.1:" + std::to_string(prom_port_)},
      dir_.File("prometheus.log"));
  bridge_port_ = testing::PickFreePort();
  bridge_ = std::make_unique<testing::Subprocess>(
      std::vector<std::string>{bridge_binary(), "--config.file=" + dir_.File("bridge.yml"),
                               "--storage.path=" + dir_.File("bridge-data"),
                               "--query.lookback-delta=" + std::string(kLookbackBridge),
                               "--web.listen-address=127.0.0.1:" + std::to_string(bridge_port_)},
      dir_.File("bridge.log"));
  auto ready = [](int port, const char* path) {
    return WaitUntil([&] {
      std::string body;
      return testing::HttpRequest(port, "GET", path, {}, "", &body) == 200;
    }, 30s);
  };
  if (!ready(prom_port_, "/-/ready")) {
    error_ = "prometheus not ready: " + testing::ReadFile(dir_.File("prometheus.log"));
  } else if (!ready(bridge_port_, "/-/healthy")) {
    error_ = "scout-bridge not ready: " + testing::ReadFile(dir_.File("bridge.log"));
  }
}

PromqlPeers::~PromqlPeers() = default;

int PromqlPeers::Call(int port, const std::string& path,
                      const std::vector<std::pair<std::string, std::string>>& params, bool post,
                      std::string* body) {
  std::string form;
  for (const auto& [k, v] : params) {
    if (!form.empty()) form += "&";
    form += UrlEncodeComponent(k) + "=" + UrlEncodeComponent(v);
  }
  if (post) {
    return testing::HttpRequest(port, "POST", path, {{"Content-Type", "application/x-www-form-urlencoded"}}, form,
                                body);
  }
  return testing::HttpRequest(port, "GET", form.empty() ? path : path + "?" + form, {}, "", body);
}

namespace {

std::string LabelKey(const json::value& metric) {
  std::map<std::string, std::string> sorted;
  for (const auto& kv : metric.as_object()) sorted[std::string(kv.key())] = std::string(kv.value().as_string());
  std::string key = "{";
  for (const auto& [k, v] : sorted) key += k + "=\"" + v + "\",";
  return key + "}";
}

bool ValuesEqual(const std::string& a, const std::string& b, double tol) {
  if (a == b) return true;
  double x = std::strtod(a.c_str(), nullptr), y = std::strtod(b.c_str(), nullptr);
  if (std::isnan(x) || std::isnan(y)) return std::isnan(x) && std::isnan(y);
  if (std::isinf(x) || std::isinf(y)) return x == y;
  return std::fabs(x - y) <= tol * std::max(std::fabs(x), std::fabs(y));
}

// [t, "v"]
std::string ComparePoint(const json::value& p, const json::value& b, double tol) {
  const auto& pa = p.as_array();
  const auto& ba = b.as_array();
  if (json::serialize(pa[0]) != json::serialize(ba[0])) {
    return "timestamp " + json::serialize(pa[0]) + " vs " + json::serialize(ba[0]);
  }
  std::string pv(pa[1].as_string()), bv(ba[1].as_string());
  if (!ValuesEqual(pv, bv, tol)) return "value " + pv + " vs " + bv + " at " + json::serialize(pa[0]);
  return "";
}

std::string CompareResult(const json::value& p, const json::value& b, const std::string& type, double tol) {
  if (type == "scalar" || type == "string") return ComparePoint(p, b, tol);
  std::map<std::string, const json::value*> pm, bm;
  for (const auto& s : p.as_array()) pm[LabelKey(s.at("metric"))] = &s;
  for (const auto& s : b.as_array()) bm[LabelKey(s.at("metric"))] = &s;
  for (const auto& [k, v] : pm) {
    if (!bm.count(k)) return "series " + k + " only in Prometheus's answer";
  }
  for (const auto& [k, v] : bm) {
    if (!pm.count(k)) return "series " + k + " only in the bridge's answer";
  }
  for (const auto& [k, ps] : pm) {
    const json::value& bs = *bm[k];
    if (type == "vector") {
      std::string d = ComparePoint(ps->at("value"), bs.at("value"), tol);
      if (!d.empty()) return k + ": " + d;
      continue;
    }
    const auto& pv = ps->at("values").as_array();
    const auto& bv = bs.at("values").as_array();
    for (size_t i = 0; i < std::min(pv.size(), bv.size()); ++i) {
      std::string d = ComparePoint(pv[i], bv[i], tol);
      if (!d.empty()) return k + ": point " + std::to_string(i) + ": " + d;
    }
    if (pv.size() != bv.size()) {
      return k + ": " + std::to_string(pv.size()) + " points vs " + std::to_string(bv.size());
    }
  }
  return "";
}

}  // namespace

std::string CompareApiAnswers(const std::string& prometheus, const std::string& bridge, double rel_tol) {
  boost::system::error_code ec1, ec2;
  json::value p = json::parse(prometheus, ec1), b = json::parse(bridge, ec2);
  if (ec1) return "Prometheus's answer is not JSON: " + prometheus.substr(0, 200);
  if (ec2) return "the bridge's answer is not JSON: " + bridge.substr(0, 200);
  if (json::serialize(p.at("status")) != json::serialize(b.at("status"))) {
    return "status differs: " + prometheus.substr(0, 300) + " vs " + bridge.substr(0, 300);
  }
  if (p.at("status").as_string() != "success") {
    std::string pt(p.at("errorType").as_string()), bt(b.at("errorType").as_string());
    return pt == bt ? "" : "errorType " + pt + " vs " + bt;
  }
  const json::value& pd = p.at("data");
  const json::value& bd = b.at("data");
  if (pd.is_object() && pd.as_object().contains("resultType")) {
    std::string pt(pd.at("resultType").as_string()), bt(bd.at("resultType").as_string());
    if (pt != bt) return "resultType " + pt + " vs " + bt;
    return CompareResult(pd.at("result"), bd.at("result"), pt, rel_tol);
  }
  if (pd.is_array() && bd.is_array() && !pd.as_array().empty() && pd.as_array()[0].is_object()) {
    // series: compare as sets of label sets
    std::map<std::string, int> ps, bs;
    for (const auto& m : pd.as_array()) ps[LabelKey(m)]++;
    for (const auto& m : bd.as_array()) bs[LabelKey(m)]++;
    if (ps != bs) return "series sets differ: " + json::serialize(pd).substr(0, 300) + " vs " + json::serialize(bd).substr(0, 300);
    return "";
  }
  if (json::serialize(pd) != json::serialize(bd)) {
    return "data differs: " + json::serialize(pd).substr(0, 300) + " vs " + json::serialize(bd).substr(0, 300);
  }
  return "";
}

}  // namespace sb::itest
