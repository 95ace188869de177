#include "recommendations/s3_xml.h"

#include <expat.h>

#include <charconv>
#include <functional>
#include <memory>

namespace sb::recommendations {
namespace {

// Walks a document and reports each element's end with its path of local names (root
// first) and its text. Text of mixed content is concatenated; S3 documents have none.
class XmlWalker {
 public:
  using OnEnd = std::function<Status(const std::vector<std::string>& path, const std::string& text)>;

  static Status Walk(std::string_view xml, OnEnd on_end) {
    XmlWalker w(std::move(on_end));
    // Namespace processing: names arrive as "uri local", so prefixes do not matter.
    std::unique_ptr<XML_ParserStruct, void (*)(XML_Parser)> parser(
        XML_ParserCreateNS(nullptr, ' '), XML_ParserFree);
    if (!parser) return Status::Internal("cannot create an XML parser");
    XML_Parser p = parser.get();
    w.parser_ = p;
    XML_SetUserData(p, &w);
    XML_SetElementHandler(p, &XmlWalker::Start, &XmlWalker::End);
    XML_SetCharacterDataHandler(p, &XmlWalker::Text);
    XML_SetStartDoctypeDeclHandler(p, &XmlWalker::Doctype);
    if (xml.size() > static_cast<size_t>(INT32_MAX)) return Status::Corruption("XML too large");
    if (XML_Parse(p, xml.data(), static_cast<int>(xml.size()), XML_TRUE) == XML_STATUS_ERROR) {
      std::string where = std::to_string(XML_GetCurrentLineNumber(p)) + ":" +
                          std::to_string(XML_GetCurrentColumnNumber(p) + 1) + ": ";
      if (!w.error_.ok()) return Status::Corruption(where + w.error_.message());
      return Status::Corruption(where + XML_ErrorString(XML_GetErrorCode(p)));
    }
    return Status::OK();
  }

 private:
  explicit XmlWalker(OnEnd on_end) : on_end_(std::move(on_end)) {}

  static std::string LocalName(const XML_Char* name) {
    std::string_view n(name);
    size_t sp = n.rfind(' ');
    return std::string(sp == std::string_view::npos ? n : n.substr(sp + 1));
  }
  void Fail(Status s) {
    if (error_.ok()) error_ = std::move(s);
    XML_StopParser(parser_, XML_FALSE);
  }
  static void Start(void* self, const XML_Char* name, const XML_Char**) {
    auto* w = static_cast<XmlWalker*>(self);
    constexpr size_t kMaxDepth = 32;
    if (w->path_.size() >= kMaxDepth) return w->Fail(Status::Corruption("elements nested too deep"));
    w->path_.push_back(LocalName(name));
    w->text_.emplace_back();
  }
  static void End(void* self, const XML_Char*) {
    auto* w = static_cast<XmlWalker*>(self);
    Status s = w->on_end_(w->path_, w->text_.back());
    w->path_.pop_back();
    w->text_.pop_back();
    if (!s.ok()) w->Fail(std::move(s));
  }
  static void Text(void* self, const XML_Char* s, int len) {
    auto* w = static_cast<XmlWalker*>(self);
    if (!w->text_.empty()) w->text_.back().append(s, static_cast<size_t>(len));
  }
  static void Doctype(void* self, const XML_Char*, const XML_Char*, const XML_Char*, int) {
    static_cast<XmlWalker*>(self)->Fail(Status::Corruption("DOCTYPE is not allowed"));
  }

  OnEnd on_end_;
  XML_Parser parser_ = nullptr;
  std::vector<std::string> path_;
  std::vector<std::string> text_;
  Status error_;
};

std::string Unquote(std::string s) {
  // ETags arrive quoted ("\"abc\""), sometimes as &quot;abc&quot; (decoded by expat).
  if (s.size() >= 2 && s.front() == '"' && s.back() == '"') return s.substr(1, s.size() - 2);
  return s;
}

}  // namespace

Result<S3ListPage> ParseListObjectsV2(std::string_view xml) {
  S3ListPage page;
  ReportObject current;
  bool have_key = false;
  bool root_ok = false;
  Status s = XmlWalker::Walk(xml, [&](const std::vector<std::string>& path,
                                      const std::string& text) -> Status {
    if (path[0] != "ListBucketResult") {
      return Status::Corruption("expected <ListBucketResult>, got <" + path[0] + ">");
    }
    if (path.size() == 1) {
      root_ok = true;
    } else if (path.size() == 2) {
      if (path[1] == "IsTruncated") {
        page.is_truncated = (text == "true");
      } else if (path[1] == "NextContinuationToken") {
        page.next_continuation_token = text;
      } else if (path[1] == "Contents") {
        if (!have_key) return Status::Corruption("<Contents> without <Key>");
        page.objects.push_back(std::move(current));
        current = ReportObject();
        have_key = false;
      }
    } else if (path.size() == 3 && path[1] == "Contents") {
      if (path[2] == "Key") {
        current.name = text;
        have_key = true;
      } else if (path[2] == "ETag") {
        current.version = Unquote(text);
      } else if (path[2] == "Size") {
        int64_t size = -1;
        auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), size);
        if (ec != std::errc() || ptr != text.data() + text.size() || size < 0) {
          return Status::Corruption("bad <Size> \"" + text.substr(0, 40) + "\"");
        }
        current.size = size;
      }
    }
    return Status::OK();
  });
  if (!s.ok()) return s;
  if (!root_ok) return Status::Corruption("no <ListBucketResult> element");
  return page;
}

Result<S3ErrorDocument> ParseS3Error(std::string_view xml) {
  S3ErrorDocument doc;
  bool root_ok = false;
  Status s = XmlWalker::Walk(xml, [&](const std::vector<std::string>& path,
                                      const std::string& text) -> Status {
    if (path[0] != "Error") return Status::Corruption("expected <Error>, got <" + path[0] + ">");
    if (path.size() == 1) root_ok = true;
    if (path.size() != 2) return Status::OK();
    if (path[1] == "Code") doc.code = text;
    if (path[1] == "Message") doc.message = text;
    if (path[1] == "Region") doc.region = text;
    return Status::OK();
  });
  if (!s.ok()) return s;
  if (!root_ok || doc.code.empty()) return Status::Corruption("no <Error><Code> element");
  return doc;
}

}  // namespace sb::recommendations
