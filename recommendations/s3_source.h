// S3Source: recommendation reports in an S3 bucket (or an S3-compatible store) under a key
// prefix, read with ListObjectsV2 (paged by continuation-token) and GetObject, each request
// signed with AWS Signature V4 (recommendations/sigv4.h).
//
// Addressing:
//   endpoint ""                  https://<bucket>.s3.<region>.amazonaws.com/<key>
//                                (virtual-host), or https://s3.<region>.amazonaws.com/<bucket>/<key>
//                                when path_style or when the bucket name has a '.', which
//                                the *.s3 wildcard certificate cannot cover.
//   endpoint "http://h:4568"     path-style http://h:4568/<bucket>/<key> when path_style
//                                or h is an IP address or "localhost"; otherwise
//                                virtual-host http://<bucket>.h:4568/<key>.
//
// Versions: ReportObject::version is the object's ETag without quotes; a scan re-reads an
// object only when it changes. Keys ending in '/' (folder markers) are not listed.
//
// Credentials are looked up (recommendations/aws_credentials.h) at every List(), so rotated
// temporary credentials are picked up by the next scan; Read() uses those of the last
// List() (or looks them up if there was none).
//
// Errors are one line naming the bucket and key (or prefix), with S3's error Code and
// Message: "s3://reports/ci/app.txt: AccessDenied: Access Denied". Status codes:
// PermissionDenied (403 and AccessDenied/InvalidAccessKeyId/SignatureDoesNotMatch/...),
// NotFound (404, NoSuchBucket/NoSuchKey), Unavailable (transport errors, timeouts, 5xx),
// ResourceExhausted (object or listing beyond the limits below), Corruption (a 200 whose
// XML does not parse), InvalidArgument (other 4xx). Credentials never appear in them.
//
// Threads: each request runs on a private io_context inside the calling thread and blocks
// it for at most `timeout`: call List()/Read() from a worker thread, never from an I/O
// thread. One S3Source serves one caller at a time (see ReportSource).
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "common/status.h"
#include "recommendations/aws_credentials.h"
#include "recommendations/source.h"

namespace sb::config {
struct RecommendationsS3Config;
}

namespace sb::recommendations {

struct S3SourceOptions {
  std::string bucket;  // required; 3..63 of [a-z0-9.-] (also _ and A-Z, for old buckets)
  std::string prefix;  // key prefix, "" for the whole bucket; e.g. "reports/"
  // "" for AWS itself; else "http[s]://host[:port]" of an S3-compatible store.
  std::string endpoint;
  std::string region = "us-east-1";  // signing region (and the AWS host name)
  // Shared-credentials profile; "" means environment keys, else AWS_PROFILE or "default".
  std::string profile;
  bool path_style = false;  // force path-style addressing (see the file comment)
  // Deadline of each HTTP request (one listing page, one object). Default 30 s.
  std::chrono::milliseconds timeout{30000};
  // Larger objects fail to read (ResourceExhausted); reports are a few KB. Default 16 MiB.
  size_t max_object_bytes = 16 * 1024 * 1024;
  // A listing with more objects fails (ResourceExhausted) rather than grow without end.
  // Default 1,000,000 (1,000 pages).
  size_t max_objects = 1000000;
  // Path to a PEM CA bundle for https endpoints ("" = system store).
  std::string ca_file;
};

// Parses "s3://bucket" or "s3://bucket/prefix" (the prefix is kept as written, slashes and
// all). Other options keep their defaults. InvalidArgument names what is wrong:
// "s3 url \"s3:/x\": must start with s3://", "...: bad bucket name \"A!\"".
Result<S3SourceOptions> ParseS3Url(std::string_view url);

// ParseS3Url(url), then the endpoint, region, profile and path_style of the config's
// `recommendations.s3` block (config/config.h). For the s3:// entries of
// `recommendations.sources`.
Result<S3SourceOptions> S3OptionsFromConfig(std::string_view url,
                                            const config::RecommendationsS3Config& s3);

// ParseS3Url(url), then the AWS CLI's environment variables: the endpoint from
// AWS_ENDPOINT_URL_S3, else AWS_ENDPOINT_URL; the region from AWS_REGION, else
// AWS_DEFAULT_REGION. For the command line (`recommendations ingest s3://...`), which has
// no config file. (The profile needs no copy: the credential lookup reads AWS_PROFILE.)
Result<S3SourceOptions> S3OptionsFromEnvironment(std::string_view url,
                                                 const EnvLookup& env = ProcessEnvironment());

// Checks the options (bucket name, endpoint URL, region, timeout) and returns a source.
// No request is made and no credentials are read until List()/Read().
Result<std::unique_ptr<ReportSource>> MakeS3Source(const S3SourceOptions& options);

// The URL a GetObject of `key` goes to ("" = the bucket, as listed), following the
// addressing rules of the file comment, e.g. "https://b.s3.eu-west-1.amazonaws.com/a%20b.txt".
// Never contains credentials. Errors as MakeS3Source.
Result<std::string> S3ObjectUrl(const S3SourceOptions& options, std::string_view key);

// As above, with fixed credentials instead of the lookup (for tests and embedders).
Result<std::unique_ptr<ReportSource>> MakeS3Source(const S3SourceOptions& options,
                                                   AwsCredentials credentials);

}  // namespace sb::recommendations
