#include <mlctl/models/archive.hpp>

#include "tree.hpp"

#include <support/run.hpp>
#include <support/temp_dir.hpp>

#include <gtest/gtest.h>

namespace mlctl::models {
namespace {

namespace fs = std::filesystem;
using test::list_folder;

// Builds an archive with Python's tarfile (an independent writer): `entries` is Python code
// adding members to `t`, with helpers f(name, data), d(name), l(name, target), h(name, target).
fs::path python_tar(const test::TempDir& dir, std::string_view name, std::string_view entries) {
  std::string script = R"(import io, sys, tarfile
t = tarfile.open(sys.argv[1], "w", format=tarfile.GNU_FORMAT)
def add(info, data=b""):
    info.size = len(data)
    t.addfile(info, io.BytesIO(data) if data else None)
def f(name, data=b"x"):
    add(tarfile.TarInfo(name), data)
def d(name):
    i = tarfile.TarInfo(name); i.type = tarfile.DIRTYPE; i.mode = 0o755; add(i)
def l(name, target):
    i = tarfile.TarInfo(name); i.type = tarfile.SYMTYPE; i.linkname = target; add(i)
def h(name, target):
    i = tarfile.TarInfo(name); i.type = tarfile.LNKTYPE; i.linkname = target; add(i)
def c(name):
    i = tarfile.TarInfo(name); i.type = tarfile.CHRTYPE; i.devmajor = 1; i.devminor = 3; add(i)
def p(name):
    i = tarfile.TarInfo(name); i.type = tarfile.FIFOTYPE; add(i)
)";
  script += entries;
  script += "\nt.close()\n";
  fs::path archive = dir / std::string(name);
  auto made = test::run_command({"/usr/bin/python3", "-c", script, archive.string()}, dir.path());
  EXPECT_TRUE(made.ok()) << made.err;
  return archive;
}

struct Hostile {
  std::string name;
  std::string entries;
  std::string message;
};

TEST(ExtractTarTest, HostileArchivesAreRefusedAndLeaveNothing) {
  const std::vector<Hostile> cases = {
      {"dotdot", "f('ok.txt')\nf('../evil.txt')", "'..' in a path"},
      {"nested-dotdot", "f('a/../../evil.txt')", "'..' in a path"},
      {"absolute", "f('/tmp/mlctl-evil.txt')", "absolute path"},
      {"symlink-out", "l('link', '../../etc')", "points outside"},
      {"symlink-absolute", "l('link', '/etc/passwd')", "points outside"},
      {"symlink-deep-out", "d('a')\nl('a/link', '../../x')", "points outside"},
      {"through-symlink", "d('real')\nl('sub', 'real')\nf('sub/x.txt')", "its parent is a symlink"},
      {"hardlink", "f('a.txt')\nh('b.txt', 'a.txt')", "hard links are not allowed"},
      {"device", "c('null')", "device files and fifos"},
      {"fifo", "p('pipe')", "device files and fifos"},
      {"duplicate", "f('a.txt', b'1')\nf('a.txt', b'2')", "more than one entry"},
  };
  for (const Hostile& hostile : cases) {
    test::TempDir dir;
    fs::path archive = python_tar(dir, hostile.name + ".tar", hostile.entries);
    fs::create_directories(dir / "parent");
    auto extracted = extract_tar(archive, dir / "parent" / "out");
    ASSERT_FALSE(extracted) << hostile.name;
    EXPECT_EQ(extracted.error().code(), Errc::invalid) << hostile.name;
    EXPECT_NE(extracted.error().message().find(hostile.message), std::string::npos)
        << hostile.name << ": " << extracted.error().message();
    EXPECT_EQ(list_folder(dir / "parent"), std::vector<std::string>{}) << hostile.name;
    EXPECT_FALSE(fs::exists(dir / "evil.txt")) << hostile.name;
    EXPECT_FALSE(fs::exists(dir / "parent" / "evil.txt")) << hostile.name;
  }
  EXPECT_FALSE(fs::exists("/tmp/mlctl-evil.txt"));
}

TEST(ExtractTarTest, GnuTarArchiveWithDotSlashPathsExtracts) {
  test::TempDir dir;
  test::make_model_tree(dir / "model");
  auto made = test::run_command({"tar", "-C", (dir / "model").string(), "-cf", (dir / "gnu.tar").string(), "."},
                                dir.path());
  ASSERT_TRUE(made.ok()) << made.err;
  ASSERT_TRUE(extract_tar(dir / "gnu.tar", dir / "out"));
  EXPECT_EQ(test::describe_tree(dir / "out"), test::describe_tree(dir / "model"));
}

TEST(ExtractTarTest, StripPrefixKeepsOnlyThatFolder) {
  test::TempDir dir;
  fs::path archive = python_tar(dir, "image.tar", "f('etc/passwd', b'root')\nd('models')\nf('models/a.txt', b'A')\nf('models/sub/b.txt', b'B')");
  ASSERT_TRUE(extract_tar(archive, dir / "out", {.strip_prefix = "models"}));
  EXPECT_EQ(test::describe_tree(dir / "out"),
            (std::map<std::string, std::string>{{"a.txt", "file 0644 A"}, {"sub", "dir 0755"}, {"sub/b.txt", "file 0644 B"}}));
}

TEST(ExtractTarTest, AnExistingDestinationIsNotTouched) {
  test::TempDir dir;
  fs::path archive = python_tar(dir, "a.tar", "f('a.txt')");
  dir.write("out/keep.txt", "mine");
  auto extracted = extract_tar(archive, dir / "out");
  ASSERT_FALSE(extracted);
  EXPECT_EQ(extracted.error().code(), Errc::precondition);
  EXPECT_EQ(list_folder(dir / "out"), std::vector<std::string>{"keep.txt"});
}

TEST(SymlinkStaysInsideTest, ReadsTargetsLexically) {
  EXPECT_TRUE(symlink_stays_inside("link", "a/b"));
  EXPECT_TRUE(symlink_stays_inside("a/link", "../b"));
  EXPECT_TRUE(symlink_stays_inside("a/b/link", "../../c"));
  EXPECT_FALSE(symlink_stays_inside("a/link", "../../c"));
  EXPECT_FALSE(symlink_stays_inside("link", ".."));
  EXPECT_FALSE(symlink_stays_inside("link", "/abs"));
  EXPECT_FALSE(symlink_stays_inside("link", ""));
}

}  // namespace
}  // namespace mlctl::models
