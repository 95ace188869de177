// Line-oriented parser of `docker scout recommendations` reports.
//
// Each line is decoded to code points once, so that table cells can be cut at separator
// positions (needed for the DEC line-drawing rendering, where the separator is the letter
// "x") and so that the deltas under the counts can be placed by column. The parser is a
// small state machine: preamble (Target block) -> base ("Base image is" and its fields,
// the supported-tags note) -> "Refresh base image" -> "Change base image". Inside a section,
// a table row whose Details cell reads "Benefits:" starts a recommendation; following rows
// add to it until the next one starts or the section ends.
#include "recommendations/parser.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "common/log.h"

namespace sb::recommendations {
namespace {

constexpr char32_t kBoxSep = U'\u2502';     // │
constexpr char32_t kBoxBullet = U'\u2022';  // •
constexpr char32_t kCheck = U'\u2713';      // ✓
constexpr char32_t kRuleH = U'\u2500';      // ─
constexpr char32_t kRuleX = U'\u253c';      // ┼
constexpr int kDefaultColumnPitch = 7;      // "    0C     4H": one severity column is 7 wide

using U32 = std::u32string;
using U32View = std::u32string_view;

bool IsSpace(char32_t c) { return c == U' ' || c == U'\t' || c == U'\r' || c == 0xA0; }

U32View Trim(U32View s) {
  while (!s.empty() && IsSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsSpace(s.back())) s.remove_suffix(1);
  return s;
}

std::string ToUtf8(U32View s) {
  std::string out;
  out.reserve(s.size());
  for (char32_t c : s) {
    if (c < 0x80) {
      out += static_cast<char>(c);
    } else if (c < 0x800) {
      out += static_cast<char>(0xC0 | (c >> 6));
      out += static_cast<char>(0x80 | (c & 0x3F));
    } else if (c < 0x10000) {
      out += static_cast<char>(0xE0 | (c >> 12));
      out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (c & 0x3F));
    } else {
      out += static_cast<char>(0xF0 | (c >> 18));
      out += static_cast<char>(0x80 | ((c >> 12) & 0x3F));
      out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (c & 0x3F));
    }
  }
  return out;
}

// Decodes strict UTF-8 (no overlongs, no surrogates). On failure returns false and sets
// *bad_col to the 1-based byte column of the offending byte.
bool DecodeUtf8(std::string_view in, U32* out, size_t* bad_col) {
  out->clear();
  size_t i = 0;
  while (i < in.size()) {
    unsigned char b = static_cast<unsigned char>(in[i]);
    char32_t c;
    size_t n;
    if (b < 0x80) { c = b; n = 1; }
    else if ((b & 0xE0) == 0xC0) { c = b & 0x1F; n = 2; }
    else if ((b & 0xF0) == 0xE0) { c = b & 0x0F; n = 3; }
    else if ((b & 0xF8) == 0xF0) { c = b & 0x07; n = 4; }
    else { *bad_col = i + 1; return false; }
    if (i + n > in.size()) { *bad_col = i + 1; return false; }
    for (size_t k = 1; k < n; ++k) {
      unsigned char cb = static_cast<unsigned char>(in[i + k]);
      if ((cb & 0xC0) != 0x80) { *bad_col = i + 1; return false; }
      c = (c << 6) | (cb & 0x3F);
    }
    static constexpr char32_t kMin[5] = {0, 0, 0x80, 0x800, 0x10000};
    if (c < kMin[n] || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) { *bad_col = i + 1; return false; }
    out->push_back(c);
    i += n;
  }
  return true;
}

bool StartsWith(U32View s, std::u32string_view prefix) { return s.substr(0, prefix.size()) == prefix; }

void AddUnique(std::vector<std::string>* list, std::string value) {
  if (value.empty()) return;
  if (std::find(list->begin(), list->end(), value) == list->end()) list->push_back(std::move(value));
}

int SeverityIndex(char32_t letter) {
  switch (letter) {
    case U'C': return 0;
    case U'H': return 1;
    case U'M': return 2;
    case U'L': return 3;
    case U'?': return 4;
    default: return -1;
  }
}

// Parses "  0C     6H     2M     1L    10?". Records the offset of each severity letter in
// `cell` (used to place the deltas). Returns false when something else is in the cell.
bool ParseCounts(U32View cell, VulnerabilityCounts* counts, std::vector<std::pair<int, size_t>>* letters) {
  *counts = VulnerabilityCounts{};
  size_t i = 0;
  while (i < cell.size()) {
    if (IsSpace(cell[i])) { ++i; continue; }
    if (cell[i] < U'0' || cell[i] > U'9') return false;
    int64_t v = 0;
    size_t digits = 0;
    while (i < cell.size() && cell[i] >= U'0' && cell[i] <= U'9') {
      if (++digits > 12) return false;
      v = v * 10 + (cell[i] - U'0');
      ++i;
    }
    if (i >= cell.size()) return false;
    int sev = SeverityIndex(cell[i]);
    if (sev < 0) return false;
    counts->count[sev] = v;
    counts->known = true;
    if (letters) letters->emplace_back(sev, i);
    ++i;
  }
  return true;
}

// Parses "  -2     -1     +9" into (value, offset of the last digit).
bool ParseDeltaTokens(U32View cell, std::vector<std::pair<int64_t, size_t>>* out) {
  size_t i = 0;
  while (i < cell.size()) {
    if (IsSpace(cell[i])) { ++i; continue; }
    if (cell[i] != U'+' && cell[i] != U'-') return false;
    int sign = cell[i] == U'-' ? -1 : 1;
    ++i;
    int64_t v = 0;
    size_t digits = 0;
    while (i < cell.size() && cell[i] >= U'0' && cell[i] <= U'9') {
      if (++digits > 12) return false;
      v = v * 10 + (cell[i] - U'0');
      ++i;
    }
    if (digits == 0) return false;
    out->emplace_back(sign * v, i - 1);
  }
  return true;
}

enum class Section { kNone, kRefresh, kChange };

class Parser {
 public:
  explicit Parser(std::string_view file) : file_(file) {}

  Result<Report> Run(std::string_view text);

 private:
  Status Error(int line, const std::string& what) const {
    return Status::InvalidArgument(file_ + ":" + std::to_string(line) + ": " + what);
  }
  Status OnLine(int lineno, U32View line);
  Status OnTableRow(int lineno, U32View line);
  void OnWrappedDeltas(int lineno, U32View text);
  Status FinishBlock();
  void FinishNote();
  bool SplitKeyValue(U32View line, std::string* key, std::string* value) const;
  void SetBaseField(const std::string& key, const std::string& value);
  bool IsBullet(U32View s) const { return !s.empty() && (s[0] == kBoxBullet || (dec_ && s[0] == U'~')); }
  static U32View AfterBullet(U32View s) { return Trim(s.substr(1)); }
  static bool StripCheck(U32View* s);

  std::string file_;
  bool dec_ = false;  // DEC line-drawing rendering: "x" separates, "~" is the bullet
  char32_t sep_ = kBoxSep;
  Report report_;
  bool saw_fixes_ = false;
  int fixes_line_ = 0;
  bool saw_base_ = false;
  bool saw_target_ = false;
  bool legacy_ = false;
  Section section_ = Section::kNone;
  // Supported-tags note.
  bool note_active_ = false;
  bool note_done_ = false;
  std::string note_;
  // Table state.
  bool in_table_ = false;
  std::vector<size_t> header_seps_;
  // The recommendation being read.
  bool block_active_ = false;
  Recommendation block_;
  int block_rows_ = 0;
  bool block_aka_ = false;
  bool block_details_ = false;
  bool block_deltas_seen_ = false;
  std::vector<std::pair<int, size_t>> block_letters_;
};

bool Parser::StripCheck(U32View* s) {
  if (s->size() >= 2 && ((*s)[0] == kCheck || (*s)[0] == U'v') && IsSpace((*s)[1])) {
    *s = Trim(s->substr(1));
    return true;
  }
  return false;
}

bool Parser::SplitKeyValue(U32View line, std::string* key, std::string* value) const {
  size_t pos = line.find(sep_);
  if (pos == U32View::npos) return false;
  U32View k = Trim(line.substr(0, pos));
  if (k.empty()) return false;
  for (char32_t c : k) {
    if (!((c >= U'A' && c <= U'Z') || (c >= U'a' && c <= U'z'))) return false;
  }
  *key = ToUtf8(k);
  *value = ToUtf8(Trim(line.substr(pos + 1)));
  return true;
}

void Parser::SetBaseField(const std::string& key, const std::string& value) {
  BaseImage& b = report_.base;
  if (key == "Name") {
    b.name_field = value;
  } else if (key == "Digest") {
    b.digest = value;
  } else if (key == "Vulnerabilities") {
    U32 v;
    size_t bad;
    if (DecodeUtf8(value, &v, &bad) && !ParseCounts(v, &b.vulnerabilities, nullptr)) {
      b.vulnerabilities = VulnerabilityCounts{};
    }
  } else if (key == "Pushed") {
    b.pushed = value;
  } else if (key == "Size") {
    b.size = value;
  } else if (key == "Packages") {
    if (!value.empty() && value.size() < 12 &&
        std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      b.packages = std::stoll(value);
    }
  } else if (key == "Flavor") {
    b.details.flavor = value;
  } else if (key == "OS") {
    b.details.os = value;
  } else if (key == "Runtime") {
    b.details.runtime = value;
  } else if (key == "Slim") {
    b.details.slim = value == "\u2713" || value == "v";
  } else {
    LogDebug("recommendations: unknown base field ignored", {{"file", file_}, {"field", key}});
  }
}

void Parser::FinishNote() {
  if (!note_active_) return;
  note_active_ = false;
  note_done_ = true;
  static const std::string kStart = "supported tag(s)";
  size_t start = note_.find(kStart);
  if (start == std::string::npos) return;
  start += kStart.size();
  size_t end = note_.find("If you want", start);
  std::string region = note_.substr(start, end == std::string::npos ? std::string::npos : end - start);
  while (!region.empty() && (region.back() == ' ' || region.back() == '.')) region.pop_back();
  size_t pos = 0;
  while (pos <= region.size()) {
    size_t comma = region.find(',', pos);
    std::string item = region.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
    size_t a = item.find_first_not_of(" `");
    size_t z = item.find_last_not_of(" `");
    if (a != std::string::npos) AddUnique(&report_.base.supported_tags, item.substr(a, z - a + 1));
    if (comma == std::string::npos) break;
    pos = comma + 1;
  }
}

Status Parser::FinishBlock() {
  if (!block_active_) return Status::OK();
  block_active_ = false;
  if (!block_details_) {
    return Error(block_.line, "recommendation '" + block_.tag +
                                  "' ends before its 'Image details:' (truncated report?)");
  }
  report_.recommendations.push_back(std::move(block_));
  block_ = Recommendation{};
  return Status::OK();
}

void Parser::OnWrappedDeltas(int lineno, U32View text) {
  // A row longer than the terminal: its tail (the deltas) wrapped onto a line of its own,
  // so its column is lost. Place each value in the first column where the recommended count
  // minus the base count equals it.
  std::vector<std::pair<int64_t, size_t>> tokens;
  if (!block_active_ || !ParseDeltaTokens(text, &tokens) || tokens.empty() ||
      !report_.base.vulnerabilities.known) {
    LogDebug("recommendations: stray line in table ignored", {{"file", file_}, {"line", std::to_string(lineno)}});
    return;
  }
  for (const auto& [value, unused] : tokens) {
    for (int s = 0; s < kSeverityCount; ++s) {
      int64_t diff = block_.vulnerabilities.count[s] - report_.base.vulnerabilities.count[s];
      if (block_.deltas.delta[s] == 0 && diff == value) {
        block_.deltas.delta[s] = value;
        break;
      }
    }
  }
  block_deltas_seen_ = true;
}

Status Parser::OnTableRow(int lineno, U32View line) {
  // Cut the row into cells. Box separators never occur inside cell text; DEC "x" may, so
  // there the header's separator positions are used when the row has separators there.
  std::vector<U32View> cells;
  bool cut = false;
  if (dec_ && !header_seps_.empty()) {
    bool aligned = std::all_of(header_seps_.begin(), header_seps_.end(),
                               [&](size_t p) { return p < line.size() && line[p] == sep_; });
    if (aligned) {
      size_t prev = 0;
      for (size_t p : header_seps_) {
        cells.push_back(line.substr(prev, p - prev));
        prev = p + 1;
      }
      cells.push_back(line.substr(prev));
      cut = true;
    }
  }
  if (!cut) {
    size_t prev = 0;
    while (true) {
      size_t p = line.find(sep_, prev);
      if (p == U32View::npos) { cells.push_back(line.substr(prev)); break; }
      cells.push_back(line.substr(prev, p - prev));
      prev = p + 1;
    }
  }
  if (cells.size() != 4) {
    return Error(lineno, "table row has " + std::to_string(cells.size()) +
                             " columns, expected 4 (Tag, Details, Pushed, Vulnerabilities)");
  }
  U32View c0 = Trim(cells[0]), c1 = Trim(cells[1]), c2 = Trim(cells[2]);
  U32View c3raw = cells[3];
  if (c1 == U"Benefits:" && !c0.empty() && !IsBullet(c0)) {
    SB_RETURN_IF_ERROR(FinishBlock());
    block_active_ = true;
    block_ = Recommendation{};
    block_.kind = section_ == Section::kRefresh ? RecommendationKind::kRefresh : RecommendationKind::kChange;
    block_.tag = ToUtf8(c0);
    block_.pushed = ToUtf8(c2);
    block_.line = lineno;
    block_rows_ = 0;
    block_aka_ = block_details_ = block_deltas_seen_ = false;
    block_letters_.clear();
    if (!ParseCounts(c3raw, &block_.vulnerabilities, &block_letters_) || !block_.vulnerabilities.known) {
      return Error(lineno, "recommendation '" + block_.tag + "' has no vulnerability counts");
    }
    return Status::OK();
  }
  if (!block_active_) {
    return Error(lineno, "table row before the first recommendation");
  }
  ++block_rows_;
  if (c0 == U"Also known as:") {
    block_aka_ = true;
  } else if (IsBullet(c0)) {
    AddUnique(&block_.alternative_tags, ToUtf8(AfterBullet(c0)));
  } else if (!c0.empty() && block_.reason.empty() && !block_aka_) {
    block_.reason = ToUtf8(c0);
  }
  if (c1 == U"Image details:") {
    block_details_ = true;
  } else if (IsBullet(c1)) {
    U32View item = AfterBullet(c1);
    size_t colon = item.find(U':');
    std::string key = colon == U32View::npos ? "" : ToUtf8(Trim(item.substr(0, colon)));
    std::string value = colon == U32View::npos ? "" : ToUtf8(Trim(item.substr(colon + 1)));
    ImageDetails& d = block_.details;
    bool detail = block_details_;
    if (detail && key == "Size") { if (d.size.empty()) d.size = value; }
    else if (detail && key == "Flavor") { if (d.flavor.empty()) d.flavor = value; }
    else if (detail && key == "OS") { if (d.os.empty()) d.os = value; }
    else if (detail && key == "Runtime") { if (d.runtime.empty()) d.runtime = value; }
    else if (detail && key == "Slim") { d.slim = value == "\u2713" || value == "v"; }
    else AddUnique(&block_.benefits, ToUtf8(item));  // garbled redraws repeat benefits
  }
  if (!Trim(c3raw).empty() && !block_deltas_seen_) {
    std::vector<std::pair<int64_t, size_t>> tokens;
    if (!ParseDeltaTokens(c3raw, &tokens)) {
      return Error(lineno, "unreadable vulnerability change '" + ToUtf8(Trim(c3raw)) + "'");
    }
    int first_sev = block_letters_.front().first;
    size_t first_off = block_letters_.front().second;
    double pitch = kDefaultColumnPitch;
    if (block_letters_.size() >= 2) {
      const auto& last = block_letters_.back();
      if (last.first > first_sev && last.second > first_off) {
        pitch = static_cast<double>(last.second - first_off) / (last.first - first_sev);
      }
    }
    for (const auto& [value, end] : tokens) {
      double rel = (static_cast<double>(end) - static_cast<double>(first_off)) / pitch;
      int col = first_sev + static_cast<int>(std::lround(rel));
      if (col < 0 || col >= kSeverityCount) {
        return Error(lineno, "vulnerability change " + std::to_string(value) + " is outside the severity columns");
      }
      block_.deltas.delta[col] = value;
    }
    block_deltas_seen_ = true;
  }
  return Status::OK();
}

Status Parser::OnLine(int lineno, U32View line) {
  U32View t = Trim(line);
  // Section titles end everything before them.
  if (t == U"Refresh base image" || t == U"Change base image") {
    FinishNote();
    SB_RETURN_IF_ERROR(FinishBlock());
    section_ = t == U"Refresh base image" ? Section::kRefresh : Section::kChange;
    in_table_ = false;
    header_seps_.clear();
    return Status::OK();
  }
  if (note_active_) {
    if (t.empty()) { FinishNote(); return Status::OK(); }
    U32View piece = t;
    if (piece[0] == sep_ && (piece.size() == 1 || IsSpace(piece[1]))) piece = Trim(piece.substr(1));
    std::string p = ToUtf8(piece);
    if (!note_.empty() && note_.back() != '-' && !p.empty()) note_ += ' ';
    note_ += p;
    return Status::OK();
  }
  if (section_ == Section::kNone) {
    if (StartsWith(t, U"Recommended fixes for image")) {
      legacy_ = saw_fixes_ = true;
      fixes_line_ = lineno;
      report_.target_image = ToUtf8(Trim(t.substr(27)));
      return Status::OK();
    }
    if (t == U"## Recommended fixes") {
      saw_fixes_ = true;
      fixes_line_ = lineno;
      return Status::OK();
    }
    if (StartsWith(t, U"Base image is")) {
      if (saw_base_) return Status::OK();
      saw_base_ = true;
      U32View ref = Trim(t.substr(13));
      size_t colon = ref.rfind(U':');
      if (colon != U32View::npos && ref.find(U'/', colon) == U32View::npos) {
        report_.base.name = ToUtf8(ref.substr(0, colon));
        report_.base.tag = ToUtf8(ref.substr(colon + 1));
      } else {
        report_.base.name = ToUtf8(ref);
      }
      return Status::OK();
    }
    if (!note_done_ && saw_base_) {
      std::string tu = ToUtf8(t);
      if (tu.find("supported tag(s)") != std::string::npos) {
        note_active_ = true;
        return OnLine(lineno, line);  // the first line is part of the note
      }
    }
    std::string key, value;
    if (SplitKeyValue(t, &key, &value)) {
      if (!saw_base_) {
        if (key == "Target") { report_.target_image = value; saw_target_ = true; }
        else if (key == "digest") { report_.target_digest = value; saw_target_ = true; }
      } else {
        SetBaseField(key, value);
      }
    }
    return Status::OK();
  }
  // Inside "Refresh base image" or "Change base image".
  U32View status = t;
  if (StripCheck(&status)) {
    if (status == U"This image version is up to date.") { report_.base_up_to_date = true; return Status::OK(); }
    if (status == U"There are no tag recommendations at this time.") {
      report_.no_tag_recommendations = true;
      return Status::OK();
    }
  }
  if (!in_table_) {
    if (t.find(sep_) == U32View::npos) return Status::OK();
    std::vector<U32View> cells;
    std::vector<size_t> seps;
    size_t prev = 0;
    while (true) {
      size_t p = line.find(sep_, prev);
      if (p == U32View::npos) { cells.push_back(Trim(line.substr(prev))); break; }
      cells.push_back(Trim(line.substr(prev, p - prev)));
      seps.push_back(p);
      prev = p + 1;
    }
    if (cells.size() == 4 && cells[0] == U"Tag" && cells[1] == U"Details" && cells[2] == U"Pushed" &&
        cells[3] == U"Vulnerabilities") {
      in_table_ = true;
      header_seps_ = seps;
    }
    return Status::OK();
  }
  if (t.empty()) return Status::OK();
  bool rule = std::all_of(t.begin(), t.end(), [&](char32_t c) {
    return c == kRuleH || c == kRuleX || (dec_ && (c == U'q' || c == U'n'));
  });
  if (rule) return Status::OK();
  if (line.find(sep_) == U32View::npos) {
    OnWrappedDeltas(lineno, t);
    return Status::OK();
  }
  return OnTableRow(lineno, line);
}

Result<Report> Parser::Run(std::string_view text) {
  if (text.size() > kMaxReportBytes) {
    return Status::ResourceExhausted(file_ + ": " + std::to_string(text.size()) +
                                     " bytes is larger than the report limit of " +
                                     std::to_string(kMaxReportBytes) + " bytes");
  }
  if (text.empty()) return Status::NotFound(file_ + ": not a recommendations report: empty");
  if (text.find('\0') != std::string_view::npos) {
    return Status::NotFound(file_ + ": not a recommendations report: binary content (NUL byte)");
  }
  // Decode every line first: invalid UTF-8 is an error with its position, and the DEC
  // rendering is recognised before any line is interpreted.
  std::vector<U32> lines;
  size_t pos = 0;
  bool has_box = false, dec_hint = false;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    std::string_view raw = text.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
    if (!raw.empty() && raw.back() == '\r') raw.remove_suffix(1);
    U32 decoded;
    size_t bad_col = 0;
    if (!DecodeUtf8(raw, &decoded, &bad_col)) {
      return Status::InvalidArgument(file_ + ":" + std::to_string(lines.size() + 1) + ":" +
                                     std::to_string(bad_col) + ": invalid UTF-8");
    }
    if (decoded.find(kBoxSep) != U32::npos) has_box = true;
    U32View t = Trim(decoded);
    if (t.size() >= 10 && t.find(U'n') != U32View::npos &&
        std::all_of(t.begin(), t.end(), [](char32_t c) { return c == U'q' || c == U'n'; })) {
      dec_hint = true;
    }
    if (StartsWith(t, U"Target") || StartsWith(t, U"Name") || StartsWith(t, U"Digest")) {
      U32View rest = Trim(t.substr(t[0] == U'T' ? 6 : 4 + (t[0] == U'D' ? 2 : 0)));
      if (rest.size() >= 2 && rest[0] == U'x' && IsSpace(rest[1])) dec_hint = true;
    }
    lines.push_back(std::move(decoded));
    if (nl == std::string_view::npos) break;
    pos = nl + 1;
  }
  if (!has_box && dec_hint) {
    dec_ = true;
    sep_ = U'x';
  }
  for (size_t i = 0; i < lines.size(); ++i) {
    SB_RETURN_IF_ERROR(OnLine(static_cast<int>(i + 1), lines[i]));
  }
  FinishNote();
  SB_RETURN_IF_ERROR(FinishBlock());
  if (!saw_base_) {
    if (saw_fixes_) return Error(fixes_line_, "'Recommended fixes' without a 'Base image is' line");
    return Status::NotFound(file_ + ": not a recommendations report: no 'Base image is' line");
  }
  if (report_.base.tag.empty()) report_.base.tag = report_.base.name_field;
  report_.layout = legacy_ ? Layout::kLegacy : (saw_target_ ? Layout::kCurrent : Layout::kNoTarget);
  return std::move(report_);
}

}  // namespace

const char* SeverityName(Severity severity) {
  static constexpr const char* kNames[] = {"critical", "high", "medium", "low", "unknown"};
  return kNames[static_cast<int>(severity)];
}

const char* KindName(RecommendationKind kind) {
  return kind == RecommendationKind::kRefresh ? "refresh" : "change";
}

const char* LayoutName(Layout layout) {
  switch (layout) {
    case Layout::kCurrent: return "current";
    case Layout::kNoTarget: return "no_target";
    case Layout::kLegacy: return "legacy";
  }
  return "current";
}

Fixes FixesOf(const BaseImage& base, const Recommendation& rec) {
  Fixes f;
  if (!base.vulnerabilities.known || !rec.vulnerabilities.known) return f;
  auto fix = [&](Severity s) -> std::optional<int64_t> {
    int64_t d = base.vulnerabilities[s] - rec.vulnerabilities[s];
    if (d > 0) return d;
    return std::nullopt;
  };
  f.critical = fix(Severity::kCritical);
  f.high = fix(Severity::kHigh);
  f.medium = fix(Severity::kMedium);
  f.low = fix(Severity::kLow);
  return f;
}

Result<Report> ParseReport(std::string_view text, std::string_view file) {
  return Parser(file).Run(text);
}

}  // namespace sb::recommendations
