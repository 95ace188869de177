#include "recommendations/directory_source.h"

#include <sys/stat.h>
#include <fcntl.h>
#include <unistd.h>

#include <filesystem>

#include "tests/testing/testing.h"

namespace sb::recommendations {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::vector<std::string> Names(const std::vector<ReportObject>& list) {
  std::vector<std::string> out;
  for (const auto& o : list) out.push_back(o.name);
  return out;
}

TEST(DirectorySourceTest, ListsNestedFoldersSortedAndSkipsHiddenFilesAndFolders) {
  testing::TempDir dir;
  fs::create_directories(dir.File("team-a/app"));
  fs::create_directories(dir.File(".git/objects"));
  fs::create_directories(dir.File("team-b/.cache"));
  testing::WriteFile(dir.File("top.txt"), "x");
  testing::WriteFile(dir.File("team-a/app/report.txt"), "x");
  testing::WriteFile(dir.File("team-a/.hidden.txt"), "x");
  testing::WriteFile(dir.File(".git/objects/blob"), "x");
  testing::WriteFile(dir.File("team-b/.cache/old.txt"), "x");
  testing::WriteFile(dir.File("team-b/b.txt"), "x");
  DirectorySource source({dir.path()});
  auto list = source.List();
  ASSERT_OK(list);
  EXPECT_THAT(Names(*list), ElementsAre("team-a/app/report.txt", "team-b/b.txt", "top.txt"));
  auto content = source.Read(list->front());
  ASSERT_OK(content);
  EXPECT_EQ(*content, "x");
}

TEST(DirectorySourceTest, SymlinkEscapingTheRootIsNotFollowed) {
  testing::TempDir outside;
  testing::TempDir dir;
  testing::WriteFile(outside.File("secret.txt"), "do not read");
  fs::create_directories(outside.File("tree"));
  testing::WriteFile(outside.File("tree/deep.txt"), "do not read");
  testing::WriteFile(dir.File("inside.txt"), "ok");
  fs::create_symlink(outside.File("secret.txt"), dir.File("escape.txt"));
  fs::create_symlink(outside.File("tree"), dir.File("escape-dir"));
  fs::create_symlink(dir.File("inside.txt"), dir.File("alias.txt"));  // stays inside: listed
  DirectorySource source({dir.path()});
  auto list = source.List();
  ASSERT_OK(list);
  EXPECT_THAT(Names(*list), ElementsAre("alias.txt", "inside.txt"));
  // Asking for the escaping name directly is refused too.
  auto read = source.Read(ReportObject{"escape.txt", "", 0});
  ASSERT_FALSE(read.ok());
  EXPECT_EQ(read.status().code(), Status::Code::kPermissionDenied);
  auto up = source.Read(ReportObject{"../" + fs::path(outside.path()).filename().string() + "/secret.txt", "", 0});
  EXPECT_FALSE(up.ok());
}

TEST(DirectorySourceTest, VersionChangesWhenAFileChangesBetweenScans) {
  testing::TempDir dir;
  testing::WriteFile(dir.File("a.txt"), "one");
  DirectorySource source({dir.path()});
  auto first = source.List();
  ASSERT_OK(first);
  auto again = source.List();
  ASSERT_OK(again);
  EXPECT_EQ(first->at(0).version, again->at(0).version);  // unchanged
  testing::WriteFile(dir.File("a.txt"), "one and more");
  auto second = source.List();
  ASSERT_OK(second);
  EXPECT_NE(first->at(0).version, second->at(0).version);
  EXPECT_EQ(second->at(0).size, 12);
  // Same size, new mtime: still a new version.
  struct timespec times[2] = {{0, UTIME_OMIT}, {1000, 5}};
  ASSERT_EQ(utimensat(AT_FDCWD, dir.File("a.txt").c_str(), times, 0), 0);
  auto third = source.List();
  ASSERT_OK(third);
  EXPECT_NE(second->at(0).version, third->at(0).version);
}

TEST(DirectorySourceTest, MissingRootIsNotFoundNamingIt) {
  DirectorySource source({"/nonexistent/reports-dir"});
  auto list = source.List();
  ASSERT_FALSE(list.ok());
  EXPECT_EQ(list.status().code(), Status::Code::kNotFound);
  EXPECT_THAT(list.status().message(), HasSubstr("/nonexistent/reports-dir"));
}

TEST(DirectorySourceTest, TooManyFilesAndTooLargeFilesAreRefused) {
  testing::TempDir dir;
  for (int i = 0; i < 5; ++i) testing::WriteFile(dir.File("f" + std::to_string(i)), "x");
  testing::WriteFile(dir.File("big"), std::string(100, 'x'));
  DirectorySourceOptions o{dir.path(), 3, 50};
  DirectorySource source(o);
  auto list = source.List();
  ASSERT_FALSE(list.ok());
  EXPECT_EQ(list.status().code(), Status::Code::kResourceExhausted);
  auto big = source.Read(ReportObject{"big", "", 100});
  ASSERT_FALSE(big.ok());
  EXPECT_EQ(big.status().code(), Status::Code::kResourceExhausted);
  EXPECT_THAT(big.status().message(), HasSubstr("big"));
}

}  // namespace
}  // namespace sb::recommendations
