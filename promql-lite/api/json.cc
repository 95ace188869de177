#include "promql-lite/api/json.h"

#include <cmath>

namespace sb::promql::api {

const char* ErrorTypeName(ErrorType type) {
  switch (type) {
    case ErrorType::kBadData: return "bad_data";
    case ErrorType::kExecution: return "execution";
    case ErrorType::kTimeout: return "timeout";
    case ErrorType::kCanceled: return "canceled";
    case ErrorType::kInternal: return "internal";
    case ErrorType::kNotFound: return "not_found";
  }
  return "internal";
}

int ErrorHttpStatus(ErrorType type) {
  switch (type) {
    case ErrorType::kBadData: return 400;
    case ErrorType::kExecution: return 422;
    case ErrorType::kTimeout:
    case ErrorType::kCanceled: return 503;
    case ErrorType::kInternal: return 500;
    case ErrorType::kNotFound: return 404;
  }
  return 500;
}

void AppendSampleValue(std::string* out, double v) {
  double a = std::fabs(v);
  bool exp = a != 0 && (a < 1e-6 || a >= 1e21);
  AppendGoFloat(out, v, exp ? 'e' : 'f');
}

void AppendTimestamp(std::string* out, int64_t t_ms) {
  uint64_t t = static_cast<uint64_t>(t_ms);
  if (t_ms < 0) {
    out->push_back('-');
    t = 0 - t;
  }
  out->append(std::to_string(t / 1000));
  uint64_t frac = t % 1000;
  if (frac != 0) {
    char buf[5] = {'.', static_cast<char>('0' + frac / 100), static_cast<char>('0' + frac / 10 % 10),
                   static_cast<char>('0' + frac % 10), 0};
    out->append(buf, 4);
  }
}

namespace {

// Length of the valid UTF-8 sequence at s[i], or 0 if invalid (Go's utf8.DecodeRuneInString).
size_t Utf8Len(std::string_view s, size_t i) {
  unsigned char c = s[i];
  auto cont = [&](size_t k) { return i + k < s.size() && (static_cast<unsigned char>(s[i + k]) & 0xC0) == 0x80; };
  if (c < 0x80) return 1;
  if (c >= 0xC2 && c <= 0xDF) return cont(1) ? 2 : 0;
  if (c >= 0xE0 && c <= 0xEF) {
    if (!cont(1) || !cont(2)) return 0;
    unsigned char c1 = s[i + 1];
    if (c == 0xE0 && c1 < 0xA0) return 0;  // overlong
    if (c == 0xED && c1 > 0x9F) return 0;  // surrogate
    return 3;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    if (!cont(1) || !cont(2) || !cont(3)) return 0;
    unsigned char c1 = s[i + 1];
    if (c == 0xF0 && c1 < 0x90) return 0;
    if (c == 0xF4 && c1 > 0x8F) return 0;
    return 4;
  }
  return 0;
}

}  // namespace

void AppendJsonString(std::string* out, std::string_view s) {
  static const char kHex[] = "0123456789abcdef";
  out->push_back('"');
  size_t i = 0;
  while (i < s.size()) {
    unsigned char c = s[i];
    if (c < 0x80) {
      switch (c) {
        case '"': out->append("\\\""); break;
        case '\\': out->append("\\\\"); break;
        case '\n': out->append("\\n"); break;
        case '\r': out->append("\\r"); break;
        case '\t': out->append("\\t"); break;
        default:
          if (c < 0x20 || c == '<' || c == '>' || c == '&') {
            out->append("\\u00");
            out->push_back(kHex[c >> 4]);
            out->push_back(kHex[c & 0xF]);
          } else {
            out->push_back(static_cast<char>(c));
          }
      }
      ++i;
      continue;
    }
    size_t n = Utf8Len(s, i);
    if (n == 0) {
      out->append("\\ufffd");
      ++i;
      continue;
    }
    // U+2028 and U+2029 (E2 80 A8/A9) are escaped by Go for JavaScript safety.
    if (n == 3 && c == 0xE2 && static_cast<unsigned char>(s[i + 1]) == 0x80 &&
        (static_cast<unsigned char>(s[i + 2]) & 0xFE) == 0xA8) {
      out->append(static_cast<unsigned char>(s[i + 2]) == 0xA8 ? "\\u2028" : "\\u2029");
    } else {
      out->append(s.substr(i, n));
    }
    i += n;
  }
  out->push_back('"');
}

void AppendLabels(std::string* out, const storage::Labels& labels) {
  out->push_back('{');
  bool first = true;
  for (const auto& l : labels) {
    if (!first) out->push_back(',');
    first = false;
    AppendJsonString(out, l.name);
    out->push_back(':');
    AppendJsonString(out, l.value);
  }
  out->push_back('}');
}

namespace {

void AppendPoint(std::string* out, int64_t t, double v) {
  out->push_back('[');
  AppendTimestamp(out, t);
  out->append(",\"");
  AppendSampleValue(out, v);
  out->append("\"]");
}

// The API's resultType (kept here so that the encoders do not need the engine library).
const char* ResultTypeName(ValueType type) {
  switch (type) {
    case ValueType::kScalar: return "scalar";
    case ValueType::kVector: return "vector";
    case ValueType::kMatrix: return "matrix";
    case ValueType::kString: return "string";
  }
  return "vector";
}

}  // namespace

void AppendQueryData(std::string* out, const Value& value) {
  out->append("{\"resultType\":\"");
  out->append(ResultTypeName(value.type));
  out->append("\",\"result\":");
  switch (value.type) {
    case ValueType::kScalar:
      AppendPoint(out, value.t, value.scalar);
      break;
    case ValueType::kString:
      out->push_back('[');
      AppendTimestamp(out, value.t);
      out->push_back(',');
      AppendJsonString(out, value.str);
      out->push_back(']');
      break;
    case ValueType::kVector:
    case ValueType::kMatrix: {
      bool matrix = value.type == ValueType::kMatrix;
      out->push_back('[');
      bool first = true;
      for (const Series& s : value.series) {
        if (!matrix && s.points.empty()) continue;
        if (!first) out->push_back(',');
        first = false;
        out->append("{\"metric\":");
        AppendLabels(out, s.labels);
        if (matrix) {
          out->append(",\"values\":[");
          for (size_t i = 0; i < s.points.size(); ++i) {
            if (i) out->push_back(',');
            AppendPoint(out, s.points[i].t, s.points[i].v);
          }
          out->push_back(']');
        } else {
          out->append(",\"value\":");
          AppendPoint(out, s.points.back().t, s.points.back().v);
        }
        out->push_back('}');
      }
      out->push_back(']');
      break;
    }
  }
  out->push_back('}');
}

std::string SuccessBody(std::string_view data_json, const std::vector<std::string>& warnings) {
  std::string out;
  out.reserve(data_json.size() + 40);
  out.append("{\"status\":\"success\",\"data\":");
  out.append(data_json);
  if (!warnings.empty()) {
    out.append(",\"warnings\":");
    out.append(StringArray(warnings));
  }
  out.push_back('}');
  return out;
}

std::string ErrorBody(ErrorType type, std::string_view message) {
  std::string out = "{\"status\":\"error\",\"errorType\":\"";
  out.append(ErrorTypeName(type));
  out.append("\",\"error\":");
  AppendJsonString(&out, message);
  out.push_back('}');
  return out;
}

std::string StringArray(const std::vector<std::string>& values) {
  std::string out = "[";
  for (size_t i = 0; i < values.size(); ++i) {
    if (i) out.push_back(',');
    AppendJsonString(&out, values[i]);
  }
  out.push_back(']');
  return out;
}

}  // namespace sb::promql::api
