// Test helpers for the exposition parser and renderer: a seeded generator of random but
// canonical expositions (ones whose rendering parses back to exactly the same value) and an
// equality check that treats NaN == NaN and tells -0 from +0.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <string>

#include "common/exposition/model.h"

namespace sb::expo::testing {

struct RandomOptions {
  bool openmetrics = false;      // also gaugehistogram/info/stateset types and UNIT lines
  bool with_timestamps = false;  // give some samples timestamps
  int max_families = 12;
  int max_samples_per_family = 8;
};

class RandomExposition {
 public:
  explicit RandomExposition(uint32_t seed) : rng_(seed) {}

  Exposition Make(const RandomOptions& o) {
    Exposition exp;
    const int nf = Int(0, o.max_families);
    for (int fi = 0; fi < nf; ++fi) {
      Family f;
      // Unique family names: text 0.0.4 rejects a second TYPE line for a name.
      f.name = MetricBase() + "_" + std::to_string(fi);
      const int types = o.openmetrics ? 8 : 5;
      static const MetricType kTypes[] = {
          MetricType::kUnknown, MetricType::kCounter, MetricType::kGauge,
          MetricType::kHistogram, MetricType::kSummary, MetricType::kGaugeHistogram,
          MetricType::kInfo, MetricType::kStateSet};
      f.type = kTypes[Int(0, types - 1)];
      if (Int(0, 2) > 0) f.help = Text(false);
      if (o.openmetrics && Int(0, 3) == 0) f.unit = "seconds";
      const int ns = Int(0, o.max_samples_per_family);
      for (int si = 0; si < ns; ++si) {
        Sample s;
        s.name = f.name + SuffixFor(f.type);
        s.labels = RandomLabels();
        s.value = Value();
        if (o.with_timestamps && Int(0, 1) == 1) {
          s.timestamp_ms = static_cast<int64_t>(rng_() % 4'000'000'000'000ull) - 100'000'000;
        }
        f.samples.push_back(std::move(s));
      }
      exp.families.push_back(std::move(f));
    }
    return exp;
  }

  double Value() {
    static const double kSpecial[] = {0.0, -0.0, 1.0, -1.0, 0.5, 1e6, 1e21, 1e-5, 123456.0,
                                      NAN, INFINITY, -INFINITY, 4.9e-324, 1.7976931348623157e308,
                                      0.1, 1e-7, 100.0, 2.5e15};
    switch (Int(0, 3)) {
      case 0: return kSpecial[Int(0, sizeof(kSpecial) / sizeof(kSpecial[0]) - 1)];
      case 1: return static_cast<double>(Int(-1000000, 1000000));
      case 2: {
        double d;
        do {
          uint64_t bits = (static_cast<uint64_t>(rng_()) << 32) | rng_();
          std::memcpy(&d, &bits, sizeof d);
        } while (std::isnan(d) || std::isinf(d));
        return d;
      }
      default: return std::ldexp(static_cast<double>(Int(1, 1 << 20)), Int(-40, 40));
    }
  }

 private:
  int Int(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng_); }

  std::string MetricBase() {
    static const char* kNames[] = {"http_requests", "scout:vulns", "a", "_x", "my.metric",
                                   "dotted.name-with-dash", "ünïcödé", "quote\"back\\slash",
                                   "Name9"};
    return kNames[Int(0, sizeof(kNames) / sizeof(kNames[0]) - 1)];
  }

  std::string SuffixFor(MetricType t) {
    switch (t) {
      case MetricType::kCounter: return Int(0, 3) == 0 ? "_created" : "_total";
      case MetricType::kHistogram: {
        static const char* k[] = {"_bucket", "_sum", "_count", "_created"};
        return k[Int(0, 3)];
      }
      case MetricType::kGaugeHistogram: {
        static const char* k[] = {"_bucket", "_gsum", "_gcount"};
        return k[Int(0, 2)];
      }
      case MetricType::kSummary: {
        static const char* k[] = {"", "_sum", "_count"};
        return k[Int(0, 2)];
      }
      case MetricType::kInfo: return "_info";
      default: return "";
    }
  }

  Labels RandomLabels() {
    static const char* kLabelNames[] = {"le", "quantile", "org", "severity", "_l1", "label.x",
                                        "with space", "é", "q\"uote"};
    constexpr int kN = sizeof(kLabelNames) / sizeof(kLabelNames[0]);
    Labels labels;
    const int n = Int(0, 4);
    int start = Int(0, kN - 1);
    for (int i = 0; i < n; ++i) {  // distinct names, in a rotated order
      labels.push_back({kLabelNames[(start + i) % kN], Text(true)});
    }
    return labels;
  }

  // Random text with the characters escaping must handle. Help text avoids a leading blank
  // and a trailing '\r', which the line syntax cannot keep.
  std::string Text(bool label_value) {
    static const char* kPieces[] = {"a", "Z", " ", "\\", "\"", "\n", "\\n", "{", "}", ",",
                                    "=", "#", "ü", "日本", "\t", "\r", "0.5", "\\\\"};
    std::string s;
    const int n = Int(0, 8);
    for (int i = 0; i < n; ++i) s += kPieces[Int(0, sizeof(kPieces) / sizeof(kPieces[0]) - 1)];
    if (!label_value) {
      while (!s.empty() && (s[0] == ' ' || s[0] == '\t')) s.erase(0, 1);
      while (!s.empty() && s.back() == '\r') s.pop_back();
    }
    return s;
  }

  std::mt19937 rng_;
};

inline bool SameValue(double a, double b) {
  if (std::isnan(a) || std::isnan(b)) return std::isnan(a) && std::isnan(b);
  return a == b && std::signbit(a) == std::signbit(b);
}

// Adds a gtest failure describing the first difference.
inline void ExpectSameExposition(const Exposition& got, const Exposition& want) {
  ASSERT_EQ(got.families.size(), want.families.size());
  for (size_t i = 0; i < want.families.size(); ++i) {
    const Family& g = got.families[i];
    const Family& w = want.families[i];
    SCOPED_TRACE("family " + std::to_string(i) + " " + w.name);
    EXPECT_EQ(g.name, w.name);
    EXPECT_EQ(g.type, w.type);
    EXPECT_EQ(g.help, w.help);
    EXPECT_EQ(g.unit, w.unit);
    ASSERT_EQ(g.samples.size(), w.samples.size());
    for (size_t j = 0; j < w.samples.size(); ++j) {
      SCOPED_TRACE("sample " + std::to_string(j));
      EXPECT_EQ(g.samples[j].name, w.samples[j].name);
      EXPECT_EQ(g.samples[j].labels, w.samples[j].labels);
      EXPECT_TRUE(SameValue(g.samples[j].value, w.samples[j].value))
          << g.samples[j].value << " vs " << w.samples[j].value;
      EXPECT_EQ(g.samples[j].timestamp_ms, w.samples[j].timestamp_ms);
    }
  }
}

}  // namespace sb::expo::testing
