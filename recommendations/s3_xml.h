// The two S3 XML documents the S3 source reads: a ListObjectsV2 page (ListBucketResult)
// and an error (<Error><Code/><Message/></Error>). Parsed with expat; elements are matched
// by local name, so a namespace prefix or the default S3 namespace makes no difference.
// A DOCTYPE is refused (no entity expansion at all), and the caller bounds the body size.
//
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "recommendations/source.h"

namespace sb::recommendations {

struct S3ListPage {
  // One per <Contents>: name = <Key>, version = <ETag> without its quotes, size = <Size>.
  std::vector<ReportObject> objects;
  bool is_truncated = false;           // <IsTruncated>true</IsTruncated>
  std::string next_continuation_token;  // <NextContinuationToken>, "" if absent
};

// Parses a ListObjectsV2 response body. Errors (Corruption): not XML ("3:14: mismatched
// tag"), a root other than ListBucketResult, a <Contents> without <Key>, a bad <Size>.
Result<S3ListPage> ParseListObjectsV2(std::string_view xml);

struct S3ErrorDocument {
  std::string code;     // e.g. "AccessDenied", "NoSuchBucket", "SignatureDoesNotMatch"
  std::string message;  // e.g. "Access Denied"
  std::string region;   // <Region> when S3 names the bucket's region (redirects), else ""
};

// Parses an S3 error body. Returns Corruption if it is not an <Error> document.
Result<S3ErrorDocument> ParseS3Error(std::string_view xml);

}  // namespace sb::recommendations
