#include "recommendations/aws_credentials.h"

#include <gtest/gtest.h>

#include <sys/stat.h>

#include <map>

#include "tests/testing/testing.h"

namespace sb::recommendations {
namespace {

using sb::testing::TempDir;
using sb::testing::WriteFile;

EnvLookup FakeEnv(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

constexpr char kFile[] =
    "# shared credentials\n"
    "[default]\n"
    "aws_access_key_id = AKIADEFAULT\n"
    "aws_secret_access_key = default-secret-value\n"
    "\n"
    "[ci]\r\n"
    "aws_access_key_id=AKIACI\r\n"
    "AWS_SECRET_ACCESS_KEY = ci-secret-value\r\n"
    "aws_session_token = ci-session-token\r\n"
    "region = eu-west-1\r\n"
    "; a comment\n"
    "[broken]\n"
    "aws_access_key_id = AKIABROKEN\n";

TEST(AwsCredentialsTest, EnvironmentKeysWinWhenNoProfileIsGiven) {
  TempDir dir;
  WriteFile(dir.File("credentials"), kFile);
  auto c = LoadAwsCredentials("", FakeEnv({{"AWS_ACCESS_KEY_ID", "AKIAENV"},
                                           {"AWS_SECRET_ACCESS_KEY", "env-secret"},
                                           {"AWS_SESSION_TOKEN", "env-token"},
                                           {"AWS_SHARED_CREDENTIALS_FILE", dir.File("credentials")}}));
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->access_key_id, "AKIAENV");
  EXPECT_EQ(c->secret_access_key.Reveal(), "env-secret");
  EXPECT_EQ(c->session_token.Reveal(), "env-token");
  EXPECT_EQ(c->source, "environment");
}

TEST(AwsCredentialsTest, SharedFileDefaultProfileIsUsedWithoutEnvironmentKeys) {
  TempDir dir;
  WriteFile(dir.File("credentials"), kFile);
  auto c = LoadAwsCredentials("", FakeEnv({{"AWS_SHARED_CREDENTIALS_FILE", dir.File("credentials")}}));
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->access_key_id, "AKIADEFAULT");
  EXPECT_EQ(c->secret_access_key.Reveal(), "default-secret-value");
  EXPECT_TRUE(c->session_token.empty());
  EXPECT_EQ(c->source, dir.File("credentials") + " [default]");
}

TEST(AwsCredentialsTest, AwsProfileSelectsASectionWithSessionTokenAndCrlfLines) {
  TempDir dir;
  WriteFile(dir.File("credentials"), kFile);
  auto c = LoadAwsCredentials("", FakeEnv({{"AWS_SHARED_CREDENTIALS_FILE", dir.File("credentials")},
                                           {"AWS_PROFILE", "ci"}}));
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->access_key_id, "AKIACI");
  EXPECT_EQ(c->secret_access_key.Reveal(), "ci-secret-value");
  EXPECT_EQ(c->session_token.Reveal(), "ci-session-token");
}

TEST(AwsCredentialsTest, ExplicitProfileIgnoresEnvironmentKeys) {
  TempDir dir;
  WriteFile(dir.File("credentials"), kFile);
  auto c = LoadAwsCredentials("ci", FakeEnv({{"AWS_ACCESS_KEY_ID", "AKIAENV"},
                                             {"AWS_SECRET_ACCESS_KEY", "env-secret"},
                                             {"AWS_SHARED_CREDENTIALS_FILE", dir.File("credentials")}}));
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->access_key_id, "AKIACI");
}

TEST(AwsCredentialsTest, HomeDotAwsCredentialsIsTheDefaultPath) {
  TempDir dir;
  ASSERT_EQ(::mkdir(dir.File(".aws").c_str(), 0700), 0);
  WriteFile(dir.File(".aws/credentials"), kFile);
  auto c = LoadAwsCredentials("", FakeEnv({{"HOME", dir.path()}}));
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->access_key_id, "AKIADEFAULT");
}

TEST(AwsCredentialsTest, MissingProfileIsNotFoundNamingProfileAndFile) {
  TempDir dir;
  WriteFile(dir.File("credentials"), kFile);
  auto c = LoadAwsCredentials("prod", FakeEnv({{"AWS_SHARED_CREDENTIALS_FILE", dir.File("credentials")}}));
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), Status::Code::kNotFound);
  EXPECT_EQ(c.status().message(), "profile \"prod\" not found in " + dir.File("credentials"));
}

TEST(AwsCredentialsTest, ProfileWithoutSecretIsAnErrorNamingIt) {
  TempDir dir;
  WriteFile(dir.File("credentials"), kFile);
  auto c = LoadAwsCredentials("broken", FakeEnv({{"AWS_SHARED_CREDENTIALS_FILE", dir.File("credentials")}}));
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), Status::Code::kInvalidArgument);
  EXPECT_NE(c.status().message().find("profile \"broken\" has no aws_secret_access_key"),
            std::string::npos);
}

TEST(AwsCredentialsTest, NoCredentialsAnywhereSaysWhereItLooked) {
  TempDir dir;
  auto c = LoadAwsCredentials("", FakeEnv({{"HOME", dir.path()}}));
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), Status::Code::kNotFound);
  EXPECT_NE(c.status().message().find("AWS_ACCESS_KEY_ID"), std::string::npos);
  EXPECT_NE(c.status().message().find(dir.path() + "/.aws/credentials does not exist"),
            std::string::npos);
}

TEST(AwsCredentialsTest, HalfSetEnvironmentIsAnError) {
  auto c = LoadAwsCredentials("", FakeEnv({{"AWS_ACCESS_KEY_ID", "AKIA"}}));
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().message(), "AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not");
}

TEST(AwsCredentialsTest, MalformedLineGivesFileAndLineButNeverTheLineText) {
  auto c = ParseSharedCredentials("[default]\naws_access_key_id = A\nsecretwithoutequals\n",
                                  "default", "creds");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().message(), "creds:3: expected 'key = value'");
  auto d = ParseSharedCredentials("[default\n", "default", "creds");
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.status().message(), "creds:1: section header without ']'");
}

TEST(AwsCredentialsTest, ErrorsNeverContainSecretValues) {
  // A profile that lacks its key id but has secret and token: the error must not echo them.
  auto c = ParseSharedCredentials(
      "[p]\naws_secret_access_key = VERYSECRETVALUE\naws_session_token = TOKENVALUE\n", "p", "f");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().message().find("VERYSECRETVALUE"), std::string::npos);
  EXPECT_EQ(c.status().message().find("TOKENVALUE"), std::string::npos);
}

TEST(AwsCredentialsTest, EmptyInputAndOddBytesAreHandled) {
  EXPECT_EQ(ParseSharedCredentials("", "default", "f").status().code(), Status::Code::kNotFound);
  std::string binary("\0\xff\xfe[default]\n", 13);
  auto c = ParseSharedCredentials(binary, "default", "f");
  EXPECT_FALSE(c.ok());
}

}  // namespace
}  // namespace sb::recommendations
