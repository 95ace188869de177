// MakeSource: the ReportSource for one `recommendations.sources` entry or CLI argument.
//   "s3://bucket[/prefix]"  -> S3Source (recommendations/s3_source.h), with `settings`
//   anything else           -> DirectorySource on that path
//
// Thread-safety: free function.
#pragma once

#include <memory>
#include <string>

#include "common/status.h"
#include "recommendations/source.h"

namespace sb::recommendations {

// S3 settings that an s3:// URL cannot carry. Empty strings keep S3Source's defaults.
struct SourceSettings {
  std::string s3_endpoint;  // "http://127.0.0.1:4568" for an S3-compatible store
  std::string s3_region;    // signing region; default us-east-1
  std::string s3_profile;   // ~/.aws/credentials profile
  bool s3_path_style = false;
};

// Defaults from the environment, as the AWS CLI reads them: AWS_ENDPOINT_URL_S3 (else
// AWS_ENDPOINT_URL) and AWS_REGION (else AWS_DEFAULT_REGION). The profile is left to the
// credential lookup (AWS_PROFILE).
SourceSettings SourceSettingsFromEnv();

// Errors: InvalidArgument for an empty spec or a bad s3:// URL (naming it); Unimplemented
// for s3:// in a build without the S3 source.
Result<std::unique_ptr<ReportSource>> MakeSource(const std::string& spec, const SourceSettings& settings = {});

}  // namespace sb::recommendations
