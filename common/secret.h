// Secret: a string that must never leave the process in logs, errors, metrics, status pages
// or config dumps. It has no implicit conversion to string; Reveal() is the one place a
// caller takes the plain value (to build an Authorization header), which keeps every use
// greppable. Printing it gives "<secret>".
#pragma once

#include <ostream>
#include <string>
#include <utility>

namespace sb {

class Secret {
 public:
  Secret() = default;
  explicit Secret(std::string value) : value_(std::move(value)) {}
  bool empty() const { return value_.empty(); }
  const std::string& Reveal() const { return value_; }
  static constexpr const char* kMask = "<secret>";
  bool operator==(const Secret& o) const { return value_ == o.value_; }

 private:
  std::string value_;
};

inline std::ostream& operator<<(std::ostream& os, const Secret&) { return os << Secret::kMask; }

}  // namespace sb
