#include <mlctl/core/fs.hpp>

#include <support/temp_dir.hpp>

#include <sys/stat.h>

#include <gtest/gtest.h>

namespace mlctl::core {
namespace {

namespace fs = std::filesystem;

TEST(FsTest, AtomicWriteCreatesParentsAndReplacesContent) {
  test::TempDir dir;
  auto target = dir / "a/b/file.txt";
  ASSERT_TRUE(write_file_atomic(target, "first"));
  ASSERT_TRUE(write_file_atomic(target, "second"));
  EXPECT_EQ(*read_file(target), "second");
  int entries = 0;
  for ([[maybe_unused]] const auto& entry : fs::directory_iterator(dir / "a/b")) ++entries;
  EXPECT_EQ(entries, 1) << "no temporary file is left behind";
}

TEST(FsTest, AtomicWriteSetsTheMode) {
  test::TempDir dir;
  ASSERT_TRUE(write_file_atomic(dir / "secret", "x", fs::perms(0600)));
  struct stat info {};
  ASSERT_EQ(::stat((dir / "secret").c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600u);
}

TEST(FsTest, AtomicWriteFailureKeepsTheOldFile) {
  test::TempDir dir;
  ASSERT_TRUE(write_file_atomic(dir / "keep.txt", "old"));
  fs::create_directory(dir / "keep.txt.d");
  // A directory in the way of the rename: the write fails and the old content survives.
  auto failed = write_file_atomic(dir / "keep.txt.d", "new");
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.error().code(), Errc::failed);
  EXPECT_EQ(*read_file(dir / "keep.txt"), "old");
  EXPECT_TRUE(fs::is_directory(dir / "keep.txt.d"));
}

TEST(FsTest, BatchWriteReplacesEveryFileAndLeavesNoTemporaryFile) {
  test::TempDir dir;
  ASSERT_TRUE(write_file_atomic(dir / "a/one.yaml", "old"));
  std::vector<FileContent> files{{dir / "a/one.yaml", "one"}, {dir / "a/two.yaml", "two"}, {dir / "b/c/three", "3"}};
  ASSERT_TRUE(write_files_atomic(files));
  EXPECT_EQ(*read_file(dir / "a/one.yaml"), "one");
  EXPECT_EQ(*read_file(dir / "a/two.yaml"), "two");
  EXPECT_EQ(*read_file(dir / "b/c/three"), "3");
  int entries = 0;
  for ([[maybe_unused]] const auto& entry : fs::recursive_directory_iterator(dir.path())) ++entries;
  EXPECT_EQ(entries, 6) << "a, b, b/c and the three files: no temporary file is left behind";
  EXPECT_TRUE(write_files_atomic({})) << "nothing to write is not an error";
}

TEST(FsTest, BatchWriteFailureRenamesNothing) {
  test::TempDir dir;
  ASSERT_TRUE(write_file_atomic(dir / "one", "old"));
  ASSERT_TRUE(write_file_atomic(dir / "blocked", "x"));
  // A file where a folder must be: the third write fails before any file is renamed.
  std::vector<FileContent> files{{dir / "one", "new"}, {dir / "two", "2"}, {dir / "blocked/three", "3"}};
  auto failed = write_files_atomic(files);
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.error().code(), Errc::failed);
  EXPECT_EQ(*read_file(dir / "one"), "old");
  EXPECT_FALSE(fs::exists(dir / "two"));
  int entries = 0;
  for ([[maybe_unused]] const auto& entry : fs::directory_iterator(dir.path())) ++entries;
  EXPECT_EQ(entries, 2) << "one and blocked; the temporary files are removed";
}

TEST(FsTest, ReadMissingFileIsNotFound) {
  test::TempDir dir;
  auto missing = read_file(dir / "nope");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code(), Errc::not_found);
  EXPECT_EQ(missing.error().message(), (dir / "nope").string() + ": no such file");
}

TEST(FsTest, ReadFileReadsLargeEmptyAndUnsizedFiles) {
  test::TempDir dir;
  std::string large(100'000, 'x');
  large[99'999] = 'y';
  EXPECT_EQ(*read_file(dir.write("large", large)), large);
  EXPECT_EQ(*read_file(dir.write("empty", "")), "");
  // /proc files report a size of 0: read_file reads on until the end all the same.
  auto status = read_file("/proc/self/status");
  ASSERT_TRUE(status);
  EXPECT_TRUE(status->starts_with("Name:")) << *status;
  EXPECT_TRUE(status->ends_with("\n"));
}

TEST(FsTest, ListFilesNamesRegularFilesWithTheSuffixSorted) {
  test::TempDir dir;
  dir.write("o/b.yaml", "b");
  dir.write("o/a.yaml", "a");
  dir.write("o/notes.txt", "n");
  dir.write("o/yaml", "no dot");
  fs::create_directory(dir / "o/dir.yaml");
  fs::create_symlink("a.yaml", dir / "o/link.yaml");
  fs::create_symlink("missing.yaml", dir / "o/dangling.yaml");
  auto names = list_files(dir / "o", ".yaml");
  ASSERT_TRUE(names) << names.error().message();
  EXPECT_EQ(*names, (std::vector<std::string>{"a.yaml", "b.yaml", "link.yaml"}));
  auto none = list_files(dir / "missing", ".yaml");
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->empty());
  auto not_a_folder = list_files(dir / "o/a.yaml", ".yaml");
  ASSERT_FALSE(not_a_folder);
  EXPECT_EQ(not_a_folder.error().code(), Errc::failed);
  EXPECT_NE(not_a_folder.error().message().find("a.yaml: cannot list: Not a directory"), std::string::npos)
      << not_a_folder.error().message();
}

TEST(FsTest, StateDirHasGitignoreOfEverything) {
  test::TempDir dir;
  auto state = ensure_state_dir(dir.path());
  ASSERT_TRUE(state);
  EXPECT_EQ(*state, dir / ".mlctl");
  EXPECT_EQ(dir.read(".mlctl/.gitignore"), "*\n");
}

}  // namespace
}  // namespace mlctl::core
