#include "recommendations/aws_credentials.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <sys/stat.h>

#include "common/strings.h"

namespace sb::recommendations {
namespace {

// An env value that is set and not empty (the CLI treats an empty variable as unset).
std::optional<std::string> NonEmpty(const EnvLookup& env, const std::string& name) {
  std::optional<std::string> v = env(name);
  if (v && v->empty()) return std::nullopt;
  return v;
}

std::string CredentialsFilePath(const EnvLookup& env) {
  if (auto path = NonEmpty(env, "AWS_SHARED_CREDENTIALS_FILE")) {
    // "~/" is expanded as the CLI does.
    if (path->rfind("~/", 0) == 0) {
      if (auto home = NonEmpty(env, "HOME")) return *home + path->substr(1);
    }
    return *path;
  }
  std::string home = NonEmpty(env, "HOME").value_or("");
  return home + "/.aws/credentials";
}

}  // namespace

EnvLookup ProcessEnvironment() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* v = std::getenv(name.c_str());
    if (v == nullptr) return std::nullopt;
    return std::string(v);
  };
}

Result<AwsCredentials> ParseSharedCredentials(std::string_view text, std::string_view profile,
                                              const std::string& file_name) {
  AwsCredentials creds;
  bool in_profile = false;
  bool profile_seen = false;
  int line_no = 0;
  size_t pos = 0;
  // Bounded: every iteration consumes at least one byte (or ends the loop).
  while (pos <= text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    line = TrimOws(line);
    if (line.empty() || line.front() == '#' || line.front() == ';') {
      if (end == text.size()) break;
      continue;
    }
    std::string where = file_name + ":" + std::to_string(line_no);
    if (line.front() == '[') {
      if (line.back() != ']') return Status::InvalidArgument(where + ": section header without ']'");
      std::string_view name = TrimOws(line.substr(1, line.size() - 2));
      in_profile = (name == profile);
      if (in_profile) profile_seen = true;
    } else {
      size_t eq = line.find('=');
      if (eq == std::string_view::npos) {
        // Never echo the line: it may be a pasted secret.
        return Status::InvalidArgument(where + ": expected 'key = value'");
      }
      std::string key = AsciiLower(TrimOws(line.substr(0, eq)));
      std::string value(TrimOws(line.substr(eq + 1)));
      if (in_profile) {
        if (key == "aws_access_key_id") {
          creds.access_key_id = value;
        } else if (key == "aws_secret_access_key") {
          creds.secret_access_key = Secret(value);
        } else if (key == "aws_session_token" ||
                   (key == "aws_security_token" && creds.session_token.empty())) {
          creds.session_token = Secret(value);
        }
      }
    }
    if (end == text.size()) break;
  }
  std::string profile_name = "profile \"" + std::string(profile) + "\"";
  if (!profile_seen) return Status::NotFound(profile_name + " not found in " + file_name);
  if (creds.access_key_id.empty()) {
    return Status::InvalidArgument(file_name + ": " + profile_name + " has no aws_access_key_id");
  }
  if (creds.secret_access_key.empty()) {
    return Status::InvalidArgument(file_name + ": " + profile_name +
                                   " has no aws_secret_access_key");
  }
  creds.source = file_name + " [" + std::string(profile) + "]";
  return creds;
}

Result<AwsCredentials> LoadAwsCredentials(std::string_view profile, const EnvLookup& env) {
  if (profile.empty()) {
    std::optional<std::string> key = NonEmpty(env, "AWS_ACCESS_KEY_ID");
    std::optional<std::string> secret = NonEmpty(env, "AWS_SECRET_ACCESS_KEY");
    if (key && secret) {
      AwsCredentials creds;
      creds.access_key_id = *key;
      creds.secret_access_key = Secret(*secret);
      if (auto token = NonEmpty(env, "AWS_SESSION_TOKEN")) creds.session_token = Secret(*token);
      creds.source = "environment";
      return creds;
    }
    if (key) {
      return Status::InvalidArgument("AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not");
    }
    if (secret) {
      return Status::InvalidArgument("AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not");
    }
  }
  std::string chosen(profile);
  if (chosen.empty()) chosen = NonEmpty(env, "AWS_PROFILE").value_or("default");
  std::string path = CredentialsFilePath(env);
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT || errno == ENOTDIR) {
      if (!profile.empty()) {
        return Status::NotFound("no AWS credentials for profile \"" + chosen + "\": " + path +
                                " does not exist");
      }
      return Status::NotFound("no AWS credentials: AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY are "
                              "not set and " + path + " does not exist");
    }
    return Status::IOError(path + ": " + std::strerror(errno));
  }
  if (!S_ISREG(st.st_mode)) return Status::IOError(path + ": not a regular file");
  // A credentials file is a few hundred bytes; refuse anything absurd before reading it.
  constexpr off_t kMaxFileBytes = 1 << 20;
  if (st.st_size > kMaxFileBytes) return Status::InvalidArgument(path + ": larger than 1 MiB");
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::IOError(path + ": cannot open: " + std::strerror(errno));
  std::ostringstream buf;
  buf << in.rdbuf();
  if (in.bad()) return Status::IOError(path + ": read error");
  return ParseSharedCredentials(buf.str(), chosen, path);
}

}  // namespace sb::recommendations
