#include "promql-lite/lexer.h"

#include <cmath>
#include <cstdlib>
#include <cstring>

namespace sb::promql {
namespace {

bool IsAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsAlnum(char c) { return IsAlpha(c) || IsDigit(c); }

Status Error(std::string_view in, size_t pos, const std::string& what) {
  return Status::InvalidArgument(PositionString(in, pos) + ": parse error: " + what);
}

void AppendUtf8(std::string* out, uint32_t cp) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

int HexVal(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Reads a quoted string starting at in[*i] (the quote). Go escapes for " and '; none for `.
Status LexString(std::string_view in, size_t* i, std::string* out) {
  const size_t start = *i;
  const char q = in[*i];
  ++*i;
  while (true) {
    if (*i >= in.size()) return Error(in, start, "unterminated quoted string");
    char c = in[*i];
    if (c == q) { ++*i; return Status::OK(); }
    if (q != '`' && c == '\n') return Error(in, start, "unterminated quoted string");
    if (q == '`' || c != '\\') { out->push_back(c); ++*i; continue; }
    // Escape sequence.
    if (*i + 1 >= in.size()) return Error(in, start, "unterminated quoted string");
    char e = in[*i + 1];
    *i += 2;
    switch (e) {
      case 'a': out->push_back('\a'); break;
      case 'b': out->push_back('\b'); break;
      case 'f': out->push_back('\f'); break;
      case 'n': out->push_back('\n'); break;
      case 'r': out->push_back('\r'); break;
      case 't': out->push_back('\t'); break;
      case 'v': out->push_back('\v'); break;
      case '\\': out->push_back('\\'); break;
      case '"': case '\'':
        if (e != q) return Error(in, *i - 2, "unknown escape sequence");
        out->push_back(e);
        break;
      case 'x': case 'u': case 'U': {
        int n = e == 'x' ? 2 : e == 'u' ? 4 : 8;
        uint32_t cp = 0;
        for (int k = 0; k < n; ++k) {
          if (*i >= in.size() || HexVal(in[*i]) < 0) return Error(in, *i, "illegal character in escape sequence");
          cp = cp * 16 + HexVal(in[(*i)++]);
        }
        if (e == 'x') out->push_back(static_cast<char>(cp));
        else if (cp > 0x10FFFF || (cp >= 0xD800 && cp < 0xE000)) return Error(in, *i, "escape sequence is an invalid Unicode code point");
        else AppendUtf8(out, cp);
        break;
      }
      default:
        if (e >= '0' && e <= '7') {
          uint32_t v = e - '0';
          for (int k = 0; k < 2; ++k) {
            if (*i >= in.size() || in[*i] < '0' || in[*i] > '7') return Error(in, *i, "illegal character in escape sequence");
            v = v * 8 + (in[(*i)++] - '0');
          }
          if (v > 255) return Error(in, *i, "escape sequence is an invalid Unicode code point");
          out->push_back(static_cast<char>(v));
          break;
        }
        return Error(in, *i - 2, "unknown escape sequence");
    }
  }
}

}  // namespace

std::string PositionString(std::string_view input, size_t pos) {
  size_t line = 1, col = 1;
  for (size_t k = 0; k < pos && k < input.size(); ++k) {
    if (input[k] == '\n') { ++line; col = 1; } else { ++col; }
  }
  return std::to_string(line) + ":" + std::to_string(col);
}

bool ParseDurationLiteral(std::string_view s, int64_t* ms) {
  static constexpr struct { const char* u; int64_t ms; } kUnits[] = {
      {"ms", 1}, {"y", 365LL * 86400000}, {"w", 7LL * 86400000}, {"d", 86400000},
      {"h", 3600000}, {"m", 60000}, {"s", 1000}};
  if (s.empty()) return false;
  size_t i = 0;
  int64_t total = 0;
  int last_unit = -1;
  while (i < s.size()) {
    if (!IsDigit(s[i])) return false;
    int64_t n = 0;
    while (i < s.size() && IsDigit(s[i])) {
      if (n > (INT64_MAX / 10)) return false;
      n = n * 10 + (s[i++] - '0');
    }
    int unit = -1;
    for (int u = 0; u < 7; ++u) {
      size_t len = std::strlen(kUnits[u].u);
      if (s.substr(i, len) == kUnits[u].u) { unit = u; i += len; break; }
    }
    if (unit < 0) return false;
    // Units must come in decreasing order: y w d h m s ms (index order below, ms last).
    int order = unit == 0 ? 7 : unit;
    if (order <= last_unit) return false;
    last_unit = order;
    if (n > INT64_MAX / kUnits[unit].ms) return false;
    total += n * kUnits[unit].ms;
  }
  *ms = total;
  return true;
}

Result<std::vector<Token>> Lex(std::string_view in) {
  std::vector<Token> out;
  size_t i = 0;
  int bracket_depth = 0;  // inside [...] a ':' is the subquery colon, never a name
  while (true) {
    while (i < in.size()) {
      char c = in[i];
      if (c == ' ' || c == '\t' || c == '\n' || c == '\r') { ++i; continue; }
      if (c == '#') { while (i < in.size() && in[i] != '\n') ++i; continue; }
      break;
    }
    Token t;
    t.pos = i;
    if (i >= in.size()) { t.type = Tok::kEOF; out.push_back(t); return out; }
    char c = in[i];
    char n = i + 1 < in.size() ? in[i + 1] : '\0';
    if (IsAlpha(c) || (c == ':' && bracket_depth == 0)) {
      size_t j = i;
      while (j < in.size() && (IsAlnum(in[j]) || in[j] == ':')) ++j;
      t.type = Tok::kIdent;
      t.text = std::string(in.substr(i, j - i));
      i = j;
    } else if (IsDigit(c) || (c == '.' && IsDigit(n))) {
      size_t j = i;
      while (j < in.size() && (IsAlnum(in[j]) || in[j] == '.' ||
                               ((in[j] == '+' || in[j] == '-') && j > i &&
                                (in[j - 1] == 'e' || in[j - 1] == 'E') &&
                                !(in[i] == '0' && i + 1 < in.size() && (in[i + 1] == 'x' || in[i + 1] == 'X')))))
        ++j;
      std::string text(in.substr(i, j - i));
      int64_t ms = 0;
      if (ParseDurationLiteral(text, &ms)) {
        t.type = Tok::kDuration;
        t.number = static_cast<double>(ms);
      } else {
        char* end = nullptr;
        double v;
        if (text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
          v = static_cast<double>(std::strtoull(text.c_str() + 2, &end, 16));
        } else {
          v = std::strtod(text.c_str(), &end);
        }
        if (end != text.c_str() + text.size() || text.find_first_of("pP") != std::string::npos) {
          return Error(in, i, "bad number or duration syntax: \"" + text + "\"");
        }
        t.type = Tok::kNumber;
        t.number = v;
      }
      t.text = std::move(text);
      i = j;
    } else if (c == '"' || c == '\'' || c == '`') {
      t.type = Tok::kString;
      SB_RETURN_IF_ERROR(LexString(in, &i, &t.text));
    } else {
      struct Op { const char* s; Tok t; };
      static constexpr Op kOps[] = {
          {"==", Tok::kEql}, {"!=", Tok::kNeq}, {"<=", Tok::kLte}, {">=", Tok::kGte},
          {"=~", Tok::kRegexMatch}, {"!~", Tok::kRegexNoMatch}, {"<", Tok::kLss},
          {">", Tok::kGtr}, {"=", Tok::kAssign}, {"+", Tok::kAdd}, {"-", Tok::kSub},
          {"*", Tok::kMul}, {"/", Tok::kDiv}, {"%", Tok::kMod}, {"^", Tok::kPow},
          {"(", Tok::kLParen}, {")", Tok::kRParen}, {"{", Tok::kLBrace}, {"}", Tok::kRBrace},
          {"[", Tok::kLBracket}, {"]", Tok::kRBracket}, {",", Tok::kComma},
          {":", Tok::kColon}, {"@", Tok::kAt}};
      bool found = false;
      for (const auto& op : kOps) {
        size_t len = std::strlen(op.s);
        if (in.substr(i, len) == op.s) {
          t.type = op.t;
          t.text = op.s;
          i += len;
          found = true;
          break;
        }
      }
      if (t.type == Tok::kLBracket) ++bracket_depth;
      if (t.type == Tok::kRBracket && bracket_depth > 0) --bracket_depth;
      if (!found) {
        std::string ch(1, c);
        return Error(in, i, "unexpected character: '" + ch + "'");
      }
    }
    out.push_back(std::move(t));
  }
}

}  // namespace sb::promql
