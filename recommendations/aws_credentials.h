// AWS credentials for signing S3 requests, found the way the AWS CLI finds them.
//
// Order of lookup (LoadAwsCredentials):
//   1. An explicit profile (S3SourceOptions::profile, non-empty): only the shared
//      credentials file, that profile. Environment keys are ignored, as with `aws --profile`.
//   2. AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY (+ AWS_SESSION_TOKEN) in the environment.
//   3. The shared credentials file, profile $AWS_PROFILE or "default". The file is
//      $AWS_SHARED_CREDENTIALS_FILE, else $HOME/.aws/credentials. Keys read:
//      aws_access_key_id, aws_secret_access_key, aws_session_token (aws_security_token, the
//      old name, is accepted too).
// Not supported: ~/.aws/config, credential_process, SSO, instance metadata, web identity.
//
// Secrets: the secret key and the session token are held as sb::Secret and are never put
// into an error message; errors name the variable, file, line and profile only.
//
// Thread-safety: free functions over values; safe from any thread (the environment is read
// through an EnvLookup, by default getenv).
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "common/secret.h"
#include "common/status.h"

namespace sb::recommendations {

struct AwsCredentials {
  std::string access_key_id;  // not secret (AWS prints it in errors), e.g. "AKIA..."
  Secret secret_access_key;
  Secret session_token;       // empty unless temporary (STS) credentials
  // Where they came from, for messages: "environment" or "/home/u/.aws/credentials [ci]".
  std::string source;
};

// Returns the value of an environment variable, or nullopt when unset.
using EnvLookup = std::function<std::optional<std::string>(const std::string& name)>;

// getenv(3).
EnvLookup ProcessEnvironment();

// Finds credentials as described in the file comment. `profile` is the explicit profile
// ("" for none).
// Errors:
//   NotFound         no credentials anywhere (names the variables and the file looked at),
//                    or the profile is not in the file.
//   InvalidArgument  only one of AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY is set; the
//                    profile lacks a key; the file is malformed ("FILE:LINE: ...").
//   IOError          the file exists but cannot be read.
Result<AwsCredentials> LoadAwsCredentials(std::string_view profile,
                                          const EnvLookup& env = ProcessEnvironment());

// Parses the INI text of a shared credentials file and returns `profile`'s credentials.
// `file_name` prefixes errors ("creds:3: expected key = value"). Sections are "[name]";
// comments start with '#' or ';'; keys are case-insensitive; unknown keys are ignored.
Result<AwsCredentials> ParseSharedCredentials(std::string_view text, std::string_view profile,
                                              const std::string& file_name);

}  // namespace sb::recommendations
