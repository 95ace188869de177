#include "recommendations/make_source.h"

#include <cstdlib>

#include "recommendations/directory_source.h"
#if SB_HAVE_S3_SOURCE
#include "recommendations/s3_source.h"
#endif

namespace sb::recommendations {

namespace {
std::string Env(const char* a, const char* b) {
  for (const char* name : {a, b}) {
    const char* v = std::getenv(name);
    if (v && *v) return v;
  }
  return "";
}
}  // namespace

SourceSettings SourceSettingsFromEnv() {
  SourceSettings s;
  s.s3_endpoint = Env("AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL");
  s.s3_region = Env("AWS_REGION", "AWS_DEFAULT_REGION");
  return s;
}

Result<std::unique_ptr<ReportSource>> MakeSource(const std::string& spec, const SourceSettings& settings) {
  if (spec.empty()) return Status::InvalidArgument("recommendations source: empty path");
  if (spec.rfind("s3://", 0) == 0) {
#if SB_HAVE_S3_SOURCE
    SB_ASSIGN_OR_RETURN(S3SourceOptions options, ParseS3Url(spec));
    if (!settings.s3_endpoint.empty()) options.endpoint = settings.s3_endpoint;
    if (!settings.s3_region.empty()) options.region = settings.s3_region;
    if (!settings.s3_profile.empty()) options.profile = settings.s3_profile;
    options.path_style = options.path_style || settings.s3_path_style;
    return MakeS3Source(options);
#else
    // The S3 source (recommendations/s3_source.h) is not part of this build.
    return Status::Unimplemented("recommendations source " + spec + ": S3 sources are not built in");
#endif
  }
  DirectorySourceOptions options;
  options.root = spec;
  return std::unique_ptr<ReportSource>(new DirectorySource(options));
}

}  // namespace sb::recommendations
