#include <mlctl/oci/tar_writer.hpp>

#include <mlctl/core/digest.hpp>
#include <mlctl/core/fs.hpp>

#include <support/run.hpp>
#include <support/temp_dir.hpp>

#include <sys/stat.h>

#include <sstream>

#include <gtest/gtest.h>

namespace mlctl::oci {
namespace {

namespace fs = std::filesystem;

constexpr std::int64_t k_epoch = 1700000000;  // 2023-11-14 22:13:20 UTC

class StringSink : public ByteSink {
public:
  Result<void> write(std::string_view data) override {
    bytes.append(data);
    return {};
  }
  Result<void> finish() override { return {}; }
  std::string bytes;
};

std::string tar_of(std::vector<TarEntry> entries, std::int64_t epoch = k_epoch) {
  StringSink sink;
  auto written = write_tar(std::move(entries), epoch, sink);
  EXPECT_TRUE(written) << written.error().message();
  return sink.bytes;
}

// The lines of `text` with runs of spaces collapsed, so column widths do not matter.
std::vector<std::string> words_per_line(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    std::istringstream words(line);
    std::string joined;
    for (std::string word; words >> word;) joined += (joined.empty() ? "" : " ") + word;
    lines.push_back(joined);
  }
  return lines;
}

std::vector<TarEntry> small_entries() {
  return {
      {.path = "app/main.py", .content = "print('hi')\n"},
      {.path = "app/run.sh", .content = "#!/bin/sh\n", .executable = true},
      {.path = "app/current", .kind = TarEntry::Kind::symlink, .link_target = "main.py"},
      {.path = "etc/empty", .kind = TarEntry::Kind::directory},
  };
}

TEST(TarWriterTest, GnuTarListsEntriesSortedWithNormalisedOwnersAndModes) {
  test::TempDir dir;
  ASSERT_TRUE(core::write_file_atomic(dir / "layer.tar", tar_of(small_entries())));
  auto listed = test::run_command({"tar", "--numeric-owner", "-tvf", "layer.tar"}, dir.path(), {{"TZ", "UTC"}});
  ASSERT_EQ(listed.exit_code, 0) << listed.err;
  EXPECT_EQ(listed.err, "");
  EXPECT_EQ(words_per_line(listed.out), (std::vector<std::string>{
                                            "drwxr-xr-x 0/0 0 2023-11-14 22:13 app/",
                                            "lrwxrwxrwx 0/0 0 2023-11-14 22:13 app/current -> main.py",
                                            "-rw-r--r-- 0/0 12 2023-11-14 22:13 app/main.py",
                                            "-rwxr-xr-x 0/0 10 2023-11-14 22:13 app/run.sh",
                                            "drwxr-xr-x 0/0 0 2023-11-14 22:13 etc/",
                                            "drwxr-xr-x 0/0 0 2023-11-14 22:13 etc/empty/",
                                        }));
}

TEST(TarWriterTest, MatchesGnuTarUstarByteForByte) {
  // GNU tar, told to normalise owners and times the same way (the modes on disk are already the
  // normal ones), is an independent writer of the same bytes; it pads the archive to a 10 KiB
  // record, which is all zeros after our end-of-archive blocks.
  test::TempDir dir;
  dir.write("src/app/main.py", "print('hi')\n");
  dir.write("src/app/run.sh", "#!/bin/sh\n");
  fs::permissions(dir / "src/app", fs::perms(0755));
  fs::permissions(dir / "src/app/main.py", fs::perms(0644));
  fs::permissions(dir / "src/app/run.sh", fs::perms(0755));
  fs::create_symlink("main.py", dir / "src/app/current");
  std::vector<TarEntry> entries;
  for (const char* path : {"app/main.py", "app/run.sh", "app/current"}) {
    auto entry = entry_from_disk(dir / "src" / path, path);
    ASSERT_TRUE(entry) << entry.error().message();
    entries.push_back(*entry);
  }
  std::string ours = tar_of(entries);
  auto gnu = test::run_command({"tar", "--format=ustar", "--sort=name", "--numeric-owner", "--owner=0", "--group=0",
                                "--mtime=@1700000000", "-cf", "../gnu.tar", "app"},
                               dir / "src");
  ASSERT_EQ(gnu.exit_code, 0) << gnu.err;
  auto theirs = core::read_file(dir / "gnu.tar");
  ASSERT_TRUE(theirs);
  ASSERT_GE(theirs->size(), ours.size());
  EXPECT_TRUE(theirs->substr(0, ours.size()) == ours) << "the archives differ";
  EXPECT_EQ(theirs->find_first_not_of('\0', ours.size()), std::string::npos);
}

TEST(TarWriterTest, ExtractsToTheSameContentModesAndTimes) {
  test::TempDir dir;
  ASSERT_TRUE(core::write_file_atomic(dir / "layer.tar", tar_of(small_entries())));
  fs::create_directory(dir / "out");
  auto extracted = test::run_command({"tar", "-xf", "../layer.tar"}, dir / "out");
  ASSERT_EQ(extracted.exit_code, 0) << extracted.err;
  EXPECT_EQ(dir.read("out/app/main.py"), "print('hi')\n");
  EXPECT_EQ(dir.read("out/app/run.sh"), "#!/bin/sh\n");
  EXPECT_EQ(fs::read_symlink(dir / "out/app/current"), "main.py");
  struct stat info {};
  ASSERT_EQ(::stat((dir / "out/app/run.sh").c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 07777, 0755u);
  EXPECT_EQ(info.st_mtime, k_epoch);
  ASSERT_EQ(::stat((dir / "out/app/main.py").c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 07777, 0644u);
  EXPECT_TRUE(fs::is_directory(dir / "out/etc/empty"));
}

TEST(TarWriterTest, HeadersAreUstarWithValidChecksumsAndEndWithTwoZeroBlocks) {
  std::string tar = tar_of({{.path = "a.txt", .content = "hello\n"}});
  // a.txt's header, its content block, two zero blocks (the parent-less file needs no directory).
  ASSERT_EQ(tar.size(), 4u * 512);
  std::string_view header(tar.data(), 512);
  EXPECT_EQ(header.substr(0, 6), std::string_view("a.txt\0", 6));
  EXPECT_EQ(header.substr(100, 8), std::string_view("0000644\0", 8));
  EXPECT_EQ(header.substr(108, 16), std::string_view("0000000\0" "0000000\0", 16));
  EXPECT_EQ(header.substr(124, 12), std::string_view("00000000006\0", 12));
  EXPECT_EQ(header.substr(136, 12), std::string_view("14524770400\0", 12)) << "1700000000 in octal";
  EXPECT_EQ(header[156], '0');
  EXPECT_EQ(header.substr(257, 8), std::string_view("ustar\0" "00", 8));
  EXPECT_EQ(header.substr(265, 64), std::string(64, '\0')) << "empty uname and gname";
  unsigned sum = 0;
  for (size_t i = 0; i < 512; ++i) sum += (i >= 148 && i < 156) ? ' ' : static_cast<unsigned char>(header[i]);
  char expected[8];
  std::snprintf(expected, sizeof expected, "%06o", sum);
  EXPECT_EQ(header.substr(148, 8), std::string(expected, 6) + std::string("\0 ", 2));
  EXPECT_EQ(tar.substr(512, 6), "hello\n");
  EXPECT_EQ(tar.substr(2 * 512), std::string(1024, '\0'));
}

TEST(TarWriterTest, LongPathsAndLinkTargetsRoundTripThroughGnuTarAsPax) {
  std::string long_dir = std::string(60, 'd') + "/" + std::string(60, 'e');
  std::string long_file = long_dir + "/" + std::string(90, 'f') + ".bin";
  std::string long_target = std::string(70, 't') + "/" + std::string(70, 'u');
  test::TempDir dir;
  ASSERT_TRUE(core::write_file_atomic(
      dir / "layer.tar", tar_of({{.path = long_file, .content = "weights"},
                                 {.path = "link", .kind = TarEntry::Kind::symlink, .link_target = long_target}})));
  auto listed = test::run_command({"tar", "--numeric-owner", "-tvf", "layer.tar"}, dir.path(), {{"TZ", "UTC"}});
  ASSERT_EQ(listed.exit_code, 0) << listed.err;
  EXPECT_EQ(words_per_line(listed.out),
            (std::vector<std::string>{"drwxr-xr-x 0/0 0 2023-11-14 22:13 " + std::string(60, 'd') + "/",
                                      "drwxr-xr-x 0/0 0 2023-11-14 22:13 " + long_dir + "/",
                                      "-rw-r--r-- 0/0 7 2023-11-14 22:13 " + long_file,
                                      "lrwxrwxrwx 0/0 0 2023-11-14 22:13 link -> " + long_target}));
  fs::create_directory(dir / "out");
  auto extracted = test::run_command({"tar", "-xf", "../layer.tar"}, dir / "out");
  ASSERT_EQ(extracted.exit_code, 0) << extracted.err;
  EXPECT_EQ(dir.read("out/" + long_file), "weights");
  EXPECT_EQ(fs::read_symlink(dir / "out/link").string(), long_target);
}

TEST(TarWriterTest, SymlinksAreStoredNotFollowed) {
  test::TempDir dir;
  fs::create_symlink("/etc/passwd", dir / "passwd");
  auto entry = entry_from_disk(dir / "passwd", "app/passwd");
  ASSERT_TRUE(entry) << entry.error().message();
  EXPECT_EQ(entry->kind, TarEntry::Kind::symlink);
  EXPECT_EQ(entry->link_target, "/etc/passwd");
  ASSERT_TRUE(core::write_file_atomic(dir / "layer.tar", tar_of({*entry})));
  auto listed = test::run_command({"tar", "--numeric-owner", "-tvf", "layer.tar"}, dir.path(), {{"TZ", "UTC"}});
  EXPECT_EQ(words_per_line(listed.out), (std::vector<std::string>{
                                            "drwxr-xr-x 0/0 0 2023-11-14 22:13 app/",
                                            "lrwxrwxrwx 0/0 0 2023-11-14 22:13 app/passwd -> /etc/passwd",
                                        }));
}

TEST(TarWriterTest, ModesComeOnlyFromTheExecuteBits) {
  test::TempDir dir;
  dir.write("private", "x");
  dir.write("tool", "x");
  fs::permissions(dir / "private", fs::perms(0600));
  fs::permissions(dir / "tool", fs::perms(0710));
  auto private_entry = entry_from_disk(dir / "private", "private");
  auto tool_entry = entry_from_disk(dir / "tool", "tool");
  ASSERT_TRUE(private_entry && tool_entry);
  EXPECT_FALSE(private_entry->executable);
  EXPECT_TRUE(tool_entry->executable);
  std::string tar = tar_of({*private_entry, *tool_entry});
  EXPECT_EQ(tar.substr(100, 8), std::string_view("0000644\0", 8));
  EXPECT_EQ(tar.substr(1024 + 100, 8), std::string_view("0000755\0", 8));
}

TEST(TarWriterTest, RefusesEscapingAndAbsolutePathsWritingNothing) {
  std::vector<std::string> paths{"../etc/passwd", "app/../../x", "/etc/passwd", "app/..", "", "./", std::string("a\0b", 3)};
  for (const std::string& path : paths) {
    StringSink sink;
    auto written = write_tar({{.path = "ok.txt", .content = "fine"}, {.path = path, .content = "x"}}, k_epoch, sink);
    ASSERT_FALSE(written) << path;
    EXPECT_EQ(written.error().code(), Errc::invalid) << path;
    EXPECT_EQ(sink.bytes, "") << path;
  }
}

TEST(TarWriterTest, NormalisesPathsAndAddsEveryParentDirectory) {
  auto planned = plan_entries({{.path = "./b//c/d.txt"}, {.path = "a.txt"}, {.path = "b/c/"}});
  ASSERT_FALSE(planned) << "b/c is a file entry, so it cannot be the parent of b/c/d.txt";
  auto ok = plan_entries({{.path = "./b//c/d.txt"}, {.path = "a.txt"}, {.path = "b/c/", .kind = TarEntry::Kind::directory}});
  ASSERT_TRUE(ok) << ok.error().message();
  std::vector<std::string> paths;
  for (const auto& entry : *ok) paths.push_back(entry.path);
  EXPECT_EQ(paths, (std::vector<std::string>{"a.txt", "b", "b/c", "b/c/d.txt"}));
}

TEST(TarWriterTest, RefusesDuplicatesAndFilesUsedAsDirectories) {
  auto duplicate = plan_entries({{.path = "a/x"}, {.path = "./a/x"}});
  ASSERT_FALSE(duplicate);
  EXPECT_EQ(duplicate.error().message(), "'a/x': more than one entry for this path");
  auto file_parent = plan_entries({{.path = "a"}, {.path = "a/x"}});
  ASSERT_FALSE(file_parent);
  EXPECT_EQ(file_parent.error().message(), "'a/x': 'a' is not a directory");
}

// Counts what it is given and keeps only the start, for archives too large to hold.
class HeadSink : public ByteSink {
public:
  Result<void> write(std::string_view data) override {
    if (head.size() < 4096) head.append(data.substr(0, 4096 - head.size()));
    size += data.size();
    return {};
  }
  Result<void> finish() override { return {}; }
  std::string head;
  std::uint64_t size = 0;
};

TEST(TarWriterTest, FilesOf8GiBAndMoreCarryTheirSizeInPax) {
  // ustar's 11 octal digits stop at 8 GiB - 1; model weights do not. A sparse file costs no disk.
  test::TempDir dir;
  constexpr std::uint64_t k_size = 8ull << 30;
  dir.write("huge.bin", "");
  fs::resize_file(dir / "huge.bin", k_size);
  HeadSink sink;
  ASSERT_TRUE(write_tar({{.path = "huge.bin", .source = dir / "huge.bin"}}, k_epoch, sink));
  std::string record = "19 size=8589934592\n";  // 19 bytes, its own length included
  EXPECT_EQ(sink.head[156], 'x');
  EXPECT_EQ(sink.head.substr(0, 20), std::string_view("PaxHeaders/huge.bin\0", 20));
  EXPECT_EQ(sink.head.substr(124, 12), std::string_view("00000000023\0", 12)) << "19, the record's length";
  EXPECT_EQ(sink.head.substr(512, record.size()), record);
  EXPECT_EQ(sink.head[1024 + 156], '0');
  EXPECT_EQ(sink.head.substr(1024 + 124, 12), std::string_view("00000000000\0", 12));
  EXPECT_EQ(sink.size, 3 * 512 + k_size + 1024);
}

TEST(TarWriterTest, AFileThatVanishedIsAnError) {
  test::TempDir dir;
  StringSink sink;
  auto written = write_tar({{.path = "gone", .source = dir / "gone"}}, k_epoch, sink);
  ASSERT_FALSE(written);
  EXPECT_TRUE(written.error().message().starts_with("writing 'gone': ")) << written.error().message();
}

}  // namespace
}  // namespace mlctl::oci
