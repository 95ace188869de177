#include "remote_write/relabel.h"

#include <openssl/evp.h>
#include <re2/re2.h>

#include <algorithm>
#include <cctype>

namespace sb::remote_write {

struct Relabeler::Rule {
  config::RelabelConfig cfg;
  std::shared_ptr<re2::RE2> re;  // anchored
  std::map<std::string, int> names;
};

namespace {

bool IsNameChar(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

bool ValidLabelName(const std::string& n) {
  if (n.empty() || std::isdigit(static_cast<unsigned char>(n[0]))) return false;
  return std::all_of(n.begin(), n.end(), IsNameChar);
}

const std::string* Find(const storage::Labels& ls, const std::string& name) {
  for (const auto& l : ls) if (l.name == name) return &l.value;
  return nullptr;
}

void Set(storage::Labels* ls, const std::string& name, std::string value) {
  for (auto it = ls->begin(); it != ls->end(); ++it) {
    if (it->name == name) {
      if (value.empty()) ls->erase(it); else it->value = std::move(value);
      return;
    }
  }
  if (!value.empty()) ls->push_back({name, std::move(value)});
}

// Matches `text` fully; fills `groups` (0 = whole match).
bool FullMatch(const re2::RE2& re, const std::string& text, std::vector<std::string>* groups) {
  int n = re.NumberOfCapturingGroups() + 1;
  std::vector<re2::StringPiece> sp(n);
  if (!re.Match(text, 0, text.size(), re2::RE2::ANCHOR_BOTH, sp.data(), n)) return false;
  groups->assign(n, "");
  for (int i = 0; i < n; ++i) {
    if (sp[i].data() != nullptr) (*groups)[i] = std::string(sp[i].data(), sp[i].size());
  }
  return true;
}

uint64_t HashMod(const std::string& v, uint64_t modulus) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(v.data(), v.size(), md, &len, EVP_md5(), nullptr);
  uint64_t x = 0;
  for (int i = 8; i < 16; ++i) x = (x << 8) | md[i];  // big-endian, last 8 bytes
  return x % modulus;
}

}  // namespace

std::string ExpandTemplate(const std::string& tmpl, const std::vector<std::string>& groups,
                           const std::map<std::string, int>& names) {
  std::string out;
  out.reserve(tmpl.size());
  for (size_t i = 0; i < tmpl.size(); ++i) {
    char c = tmpl[i];
    if (c != '$' || i + 1 == tmpl.size()) {
      out += c;
      continue;
    }
    if (tmpl[i + 1] == '$') {
      out += '$';
      ++i;
      continue;
    }
    std::string name;
    size_t end;
    if (tmpl[i + 1] == '{') {
      size_t close = tmpl.find('}', i + 2);
      if (close == std::string::npos) { out += c; continue; }
      name = tmpl.substr(i + 2, close - i - 2);
      if (name.empty() || !std::all_of(name.begin(), name.end(), IsNameChar)) { out += c; continue; }
      end = close;
    } else {
      size_t j = i + 1;
      while (j < tmpl.size() && IsNameChar(tmpl[j])) ++j;
      if (j == i + 1) { out += c; continue; }
      name = tmpl.substr(i + 1, j - i - 1);
      end = j - 1;
    }
    int idx = -1;
    if (std::all_of(name.begin(), name.end(), [](char ch) { return std::isdigit(static_cast<unsigned char>(ch)); })) {
      if (name.size() < 6) idx = std::stoi(name);
    } else {
      auto it = names.find(name);
      if (it != names.end()) idx = it->second;
    }
    if (idx >= 0 && static_cast<size_t>(idx) < groups.size()) out += groups[idx];
    i = end;
  }
  return out;
}

Relabeler::~Relabeler() = default;

Result<std::shared_ptr<const Relabeler>> Relabeler::Make(
    const std::vector<config::RelabelConfig>& rules, const std::map<std::string, std::string>& external_labels) {
  auto r = std::shared_ptr<Relabeler>(new Relabeler());
  static const char* kActions[] = {"replace", "keep", "drop", "keepequal", "dropequal", "hashmod",
                                   "labelmap", "labeldrop", "labelkeep", "lowercase", "uppercase"};
  for (size_t i = 0; i < rules.size(); ++i) {
    const auto& c = rules[i];
    const std::string where = "write_relabel_configs[" + std::to_string(i) + "]";
    if (std::find(std::begin(kActions), std::end(kActions), c.action) == std::end(kActions)) {
      return Status::InvalidArgument(where + ": unknown action \"" + c.action + "\"");
    }
    if (c.action == "hashmod" && c.modulus == 0) return Status::InvalidArgument(where + ": hashmod needs modulus > 0");
    Rule rule;
    rule.cfg = c;
    re2::RE2::Options opts;
    opts.set_log_errors(false);
    rule.re = std::make_shared<re2::RE2>(c.regex, opts);
    if (!rule.re->ok()) {
      return Status::InvalidArgument(where + ": invalid regex \"" + c.regex + "\": " + rule.re->error());
    }
    for (const auto& [name, idx] : rule.re->NamedCapturingGroups()) rule.names[name] = idx;
    r->rules_.push_back(std::move(rule));
  }
  for (const auto& [k, v] : external_labels) {
    if (!v.empty()) r->external_.push_back({k, v});
  }
  return std::shared_ptr<const Relabeler>(std::move(r));
}

bool Relabeler::Apply(storage::Labels* ls) const {
  for (const auto& e : external_) {
    if (Find(*ls, e.name) == nullptr) ls->push_back(e);
  }
  std::vector<std::string> groups;
  for (const auto& rule : rules_) {
    const auto& c = rule.cfg;
    std::string joined;
    for (size_t i = 0; i < c.source_labels.size(); ++i) {
      if (i) joined += c.separator;
      const std::string* v = Find(*ls, c.source_labels[i]);
      if (v) joined += *v;
    }
    const std::string& a = c.action;
    if (a == "keep") {
      if (!FullMatch(*rule.re, joined, &groups)) return false;
    } else if (a == "drop") {
      if (FullMatch(*rule.re, joined, &groups)) return false;
    } else if (a == "keepequal" || a == "dropequal") {
      const std::string* t = Find(*ls, c.target_label);
      bool eq = joined == (t ? *t : std::string());
      if ((a == "keepequal") != eq) return false;
    } else if (a == "replace") {
      if (!FullMatch(*rule.re, joined, &groups)) continue;
      std::string target = ExpandTemplate(c.target_label, groups, rule.names);
      if (!ValidLabelName(target)) continue;
      Set(ls, target, ExpandTemplate(c.replacement, groups, rule.names));
    } else if (a == "lowercase" || a == "uppercase") {
      for (char& ch : joined) {
        ch = a == "lowercase" ? static_cast<char>(std::tolower(static_cast<unsigned char>(ch)))
                              : static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
      }
      Set(ls, c.target_label, std::move(joined));
    } else if (a == "hashmod") {
      Set(ls, c.target_label, std::to_string(HashMod(joined, c.modulus)));
    } else if (a == "labelmap") {
      storage::Labels add;
      for (const auto& l : *ls) {
        if (FullMatch(*rule.re, l.name, &groups)) add.push_back({ExpandTemplate(c.replacement, groups, rule.names), l.value});
      }
      for (auto& l : add) if (ValidLabelName(l.name)) Set(ls, l.name, std::move(l.value));
    } else if (a == "labeldrop" || a == "labelkeep") {
      bool keep_matching = a == "labelkeep";
      std::erase_if(*ls, [&](const storage::Label& l) {
        return FullMatch(*rule.re, l.name, &groups) != keep_matching;
      });
    }
  }
  std::erase_if(*ls, [](const storage::Label& l) { return l.value.empty(); });
  std::sort(ls->begin(), ls->end(), [](const auto& x, const auto& y) { return x.name < y.name; });
  return Find(*ls, std::string(storage::kMetricNameLabel)) != nullptr;
}

}  // namespace sb::remote_write
