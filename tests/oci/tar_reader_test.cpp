#include <mlctl/oci/tar_reader.hpp>

#include <mlctl/core/fs.hpp>
#include <mlctl/oci/layer.hpp>

#include <support/run.hpp>
#include <support/temp_dir.hpp>

#include <array>
#include <cstring>
#include <random>

#include <fmt/format.h>
#include <gtest/gtest.h>

namespace mlctl::oci {
namespace {

namespace fs = std::filesystem;

constexpr std::int64_t k_epoch = 1700000000;  // 2023-11-14 22:13:20 UTC

struct Seen {
  TarHeaderInfo header;
  std::string content;
};

// Every entry with its whole content; fails the test when reading does.
std::vector<Seen> read_all_entries(const std::string& bytes) {
  std::vector<Seen> seen;
  auto read = read_tar(bytes, [&](const TarHeaderInfo& header, ContentReader& content) {
    auto data = content.read_all(1 << 20);
    EXPECT_TRUE(data) << header.path << ": " << data.error().message();
    seen.push_back({header, data.value_or("")});
    return true;
  });
  EXPECT_TRUE(read) << read.error().message();
  return seen;
}

std::vector<std::string> paths_of(const std::vector<Seen>& seen) {
  std::vector<std::string> out;
  for (const auto& entry : seen) out.push_back(entry.header.path);
  return out;
}

// 200000 bytes that do not repeat within 64 KiB, so chunk boundaries show in a wrong result.
std::string big_content() {
  std::string out;
  for (int i = 0; out.size() < 200000; ++i) out += fmt::format("{:08d}\n", i);
  out.resize(200000);
  return out;
}

const std::string k_long_name = "models/" + std::string(120, 'w') + ".bin";  // needs a PAX path
const std::string k_long_target = std::string(150, 't');                       // needs a PAX linkpath

std::vector<TarEntry> sample_entries() {
  return {
      {.path = "app/main.py", .content = "print('hi')\n"},
      {.path = "app/run.sh", .content = "#!/bin/sh\necho run\n", .executable = true},
      {.path = "app/current", .kind = TarEntry::Kind::symlink, .link_target = "main.py"},
      {.path = "etc/empty", .kind = TarEntry::Kind::directory},
      {.path = "data/big.bin", .content = big_content()},
      {.path = k_long_name, .content = "weights"},
      {.path = "links/far", .kind = TarEntry::Kind::symlink, .link_target = k_long_target},
  };
}

TarHeaderInfo dir(std::string path) {
  return {.path = std::move(path), .type = '5', .mode = 0755, .mtime = k_epoch};
}
TarHeaderInfo file(std::string path, std::uint64_t size, unsigned mode = 0644) {
  return {.path = std::move(path), .type = '0', .size = size, .mode = mode, .mtime = k_epoch};
}
TarHeaderInfo symlink(std::string path, std::string target) {
  return {.path = std::move(path), .type = '2', .link_target = std::move(target), .mode = 0777, .mtime = k_epoch};
}

class TarReaderWritten : public ::testing::TestWithParam<CompressionMode> {};

TEST_P(TarReaderWritten, ReadsBackWhatWriteTarWrote) {
  test::TempDir dir_;
  BlobStore store(dir_ / "store");
  auto layer = build_layer(sample_entries(), {.compression = GetParam(), .epoch = k_epoch}, store);
  ASSERT_TRUE(layer) << layer.error().message();
  auto blob = core::read_file(*store.path(layer->descriptor.digest));
  ASSERT_TRUE(blob);
  std::vector<Seen> seen = read_all_entries(*blob);

  std::vector<TarHeaderInfo> expected{
      dir("app/"),
      symlink("app/current", "main.py"),
      file("app/main.py", 12),
      file("app/run.sh", 19, 0755),
      dir("data/"),
      file("data/big.bin", 200000),
      dir("etc/"),
      dir("etc/empty/"),
      dir("links/"),
      symlink("links/far", k_long_target),
      dir("models/"),
      file(k_long_name, 7),
  };
  ASSERT_EQ(seen.size(), expected.size()) << ::testing::PrintToString(paths_of(seen));
  for (size_t i = 0; i < expected.size(); ++i) EXPECT_EQ(seen[i].header, expected[i]) << expected[i].path;
  EXPECT_EQ(seen[2].content, "print('hi')\n");
  EXPECT_EQ(seen[3].content, "#!/bin/sh\necho run\n");
  EXPECT_TRUE(seen[5].content == big_content());
  EXPECT_EQ(seen[11].content, "weights");
  EXPECT_EQ(seen[0].content, "");

  // The same through a file on disk.
  std::vector<std::string> from_file;
  auto read = read_tar(*store.path(layer->descriptor.digest), [&](const TarHeaderInfo& header, ContentReader&) {
    from_file.push_back(header.path);
    return true;
  });
  ASSERT_TRUE(read) << read.error().message();
  EXPECT_EQ(from_file, paths_of(seen));
}

INSTANTIATE_TEST_SUITE_P(Compressions, TarReaderWritten,
                         ::testing::Values(CompressionMode::none, CompressionMode::gzip, CompressionMode::zstd),
                         [](const auto& info) {
                           return std::string(info.param == CompressionMode::none   ? "None"
                                              : info.param == CompressionMode::gzip ? "Gzip"
                                                                                    : "Zstd");
                         });

// A tree GNU tar must write with long-name extensions: a path split into ustar's prefix, a
// file name of 124 characters, a symlink whose target is 150 characters, and a hard link to a
// file whose path is 139 characters.
struct GnuTree {
  std::string split_dir = "tree/" + std::string(60, 'd') + "/" + std::string(60, 'e');
  std::string long_file = "tree/" + std::string(120, 'n') + ".txt";
  std::string hard = "tree/hard";
  std::string link = "tree/link";

  explicit GnuTree(const test::TempDir& dir) {
    dir.write(split_dir + "/file.txt", "split\n");
    dir.write(long_file, "long name\n");
    fs::create_hard_link(dir / split_dir / "file.txt", dir / hard);
    fs::create_symlink(k_long_target, dir / link);
  }

  std::vector<std::pair<std::string, std::string>> expected() const {
    return {{"tree/", ""},
            {"tree/" + std::string(60, 'd') + "/", ""},
            {split_dir + "/", ""},
            {split_dir + "/file.txt", "split\n"},
            {hard, ""},
            {link, ""},
            {long_file, "long name\n"}};
  }
};

std::vector<std::string> gnu_tar(std::string_view format, std::string_view compression, std::string_view archive) {
  std::vector<std::string> argv{"tar", "--format=" + std::string(format), "--sort=name", "--owner=0", "--group=0",
                                "--numeric-owner", "--mtime=@1700000000", "--mode=u=rwX,go=rX"};
  if (!compression.empty()) argv.emplace_back(compression);
  argv.insert(argv.end(), {"-cf", std::string(archive), "tree"});
  return argv;
}

// Whether a header block named ././@LongLink of `type` ('L' name, 'K' link target) is in `tar`.
bool has_gnu_long_header(const std::string& tar, char type) {
  for (size_t at = 0; at + 512 <= tar.size(); at += 512) {
    if (tar.compare(at, 14, std::string("././@LongLink\0", 14)) == 0 && tar[at + 156] == type) return true;
  }
  return false;
}

TEST(TarReaderTest, ReadsGnuTarLongNamesPaxRecordsAndUstarPrefixes) {
  test::TempDir dir;
  GnuTree tree(dir);
  struct Variant {
    std::string format;
    std::string compression;
  };
  for (const Variant& variant : {Variant{"pax", ""}, Variant{"gnu", ""}, Variant{"pax", "--gzip"},
                                 Variant{"gnu", "--zstd"}}) {
    SCOPED_TRACE(variant.format + " " + variant.compression);
    auto made = test::run_command(gnu_tar(variant.format, variant.compression, "out.tar"), dir.path());
    ASSERT_EQ(made.exit_code, 0) << made.err;
    std::string bytes = dir.read("out.tar");
    if (variant.compression.empty()) {
      // The long name and target really went through the extensions this test is about.
      if (variant.format == "gnu") {
        EXPECT_TRUE(has_gnu_long_header(bytes, 'L'));
        EXPECT_TRUE(has_gnu_long_header(bytes, 'K'));
      } else {
        EXPECT_NE(bytes.find(" path=" + tree.long_file + "\n"), std::string::npos);
        EXPECT_NE(bytes.find(" linkpath=" + k_long_target + "\n"), std::string::npos);
      }
    }
    std::vector<Seen> seen = read_all_entries(bytes);
    auto expected = tree.expected();
    ASSERT_EQ(seen.size(), expected.size()) << ::testing::PrintToString(paths_of(seen));
    for (size_t i = 0; i < expected.size(); ++i) {
      EXPECT_EQ(seen[i].header.path, expected[i].first);
      EXPECT_EQ(seen[i].content, expected[i].second);
      EXPECT_EQ(seen[i].header.size, expected[i].second.size());
      EXPECT_EQ(seen[i].header.mtime, k_epoch);
      EXPECT_EQ(seen[i].header.uid, 0u);
      EXPECT_EQ(seen[i].header.gid, 0u);
    }
    EXPECT_EQ(seen[0].header.type, '5');
    EXPECT_EQ(seen[0].header.mode, 0755u);
    EXPECT_EQ(seen[3].header.type, '0');
    EXPECT_EQ(seen[3].header.mode, 0644u);
    EXPECT_EQ(seen[4].header.type, '1');
    EXPECT_EQ(seen[4].header.link_target, tree.split_dir + "/file.txt");
    EXPECT_EQ(seen[5].header.type, '2');
    EXPECT_EQ(seen[5].header.link_target, k_long_target);
  }
}

TEST(TarReaderTest, ReadsUstarPrefixAndNameSplitByGnuTar) {
  test::TempDir dir;
  std::string split_dir = "tree/" + std::string(60, 'd') + "/" + std::string(60, 'e');
  dir.write(split_dir + "/file.txt", "split\n");
  auto made = test::run_command(gnu_tar("ustar", "", "out.tar"), dir.path());
  ASSERT_EQ(made.exit_code, 0) << made.err;
  std::string bytes = dir.read("out.tar");
  // The 130-character path really is in the prefix field (offset 345), not in an extension.
  ASSERT_EQ(bytes.substr(3 * 512 + 345, split_dir.size()), split_dir);
  std::vector<Seen> seen = read_all_entries(bytes);
  ASSERT_EQ(seen.size(), 4u);
  EXPECT_EQ(seen[3].header.path, split_dir + "/file.txt");
  EXPECT_EQ(seen[3].content, "split\n");
}

TEST(TarReaderTest, ContentCanBeReadInPiecesOrLeftUnread) {
  test::TempDir dir;
  BlobStore store(dir / "store");
  auto layer = build_layer(sample_entries(), {.compression = CompressionMode::gzip, .epoch = k_epoch}, store);
  ASSERT_TRUE(layer);
  std::string pieces;
  std::vector<std::string> visited;
  auto read = read_tar(*store.path(layer->descriptor.digest), [&](const TarHeaderInfo& header, ContentReader& content) {
    visited.push_back(header.path);
    if (header.path != "data/big.bin") return true;
    EXPECT_EQ(content.remaining(), 200000u);
    auto first = content.read(5);
    EXPECT_TRUE(first && *first == "00000");
    EXPECT_EQ(content.remaining(), 199995u);
    pieces = std::string(*first);
    while (true) {
      auto chunk = content.read(1000000);
      EXPECT_TRUE(chunk);
      if (!chunk || chunk->empty()) break;
      EXPECT_LE(chunk->size(), 65536u);
      pieces += *chunk;
    }
    return true;
  });
  ASSERT_TRUE(read) << read.error().message();
  EXPECT_TRUE(pieces == big_content());
  EXPECT_EQ(visited.size(), 12u);
}

TEST(TarReaderTest, VisitorStopsEarly) {
  test::TempDir dir;
  BlobStore store(dir / "store");
  auto layer = build_layer(sample_entries(), {.compression = CompressionMode::none, .epoch = k_epoch}, store);
  ASSERT_TRUE(layer);
  int visits = 0;
  auto read = read_tar(*store.path(layer->descriptor.digest), [&](const TarHeaderInfo&, ContentReader&) {
    return ++visits < 3;
  });
  ASSERT_TRUE(read) << read.error().message();
  EXPECT_EQ(visits, 3);
}

TEST(TarReaderTest, ReadAllRefusesContentLargerThanTheBound) {
  test::TempDir dir;
  BlobStore store(dir / "store");
  auto layer = build_layer({{.path = "a.txt", .content = "twelve bytes"}}, {.compression = CompressionMode::none}, store);
  ASSERT_TRUE(layer);
  std::optional<Error> error;
  auto read = read_tar(*store.path(layer->descriptor.digest), [&](const TarHeaderInfo&, ContentReader& content) {
    auto data = content.read_all(11);
    if (!data) error = data.error();
    EXPECT_EQ(content.read_all(12).value_or(""), "twelve bytes");
    return true;
  });
  ASSERT_TRUE(read);
  ASSERT_TRUE(error);
  EXPECT_EQ(error->code(), Errc::invalid);
  EXPECT_EQ(error->message(), "the content is 12 bytes, more than the 11 allowed");
}

TEST(TarReaderTest, MissingFileIsNotFound) {
  test::TempDir dir;
  auto read = read_tar(dir / "nope.tar", [](const TarHeaderInfo&, ContentReader&) { return true; });
  ASSERT_FALSE(read);
  EXPECT_EQ(read.error().code(), Errc::not_found);
}

TEST(TarReaderTest, EmptyInputHasNoEntries) {
  int visits = 0;
  auto read = read_tar(std::string_view(), [&](const TarHeaderInfo&, ContentReader&) { return ++visits, true; });
  ASSERT_TRUE(read) << read.error().message();
  EXPECT_EQ(visits, 0);
}

// ---- damaged input ----

// A ustar header with `size_field` copied as is into the size field and a correct checksum.
std::string header(std::string_view name, char type, std::string_view size_field) {
  std::array<char, 512> block{};
  std::memcpy(&block[0], name.data(), std::min<size_t>(name.size(), 100));
  std::memcpy(&block[100], "0000644", 8);
  std::memcpy(&block[108], "0000000", 8);
  std::memcpy(&block[116], "0000000", 8);
  std::memcpy(&block[124], size_field.data(), std::min<size_t>(size_field.size(), 12));
  std::memcpy(&block[136], "14524770400", 12);
  block[156] = type;
  std::memcpy(&block[257], "ustar", 6);
  std::memcpy(&block[263], "00", 2);
  std::memset(&block[148], ' ', 8);
  unsigned sum = 0;
  for (char c : block) sum += static_cast<unsigned char>(c);
  std::string checksum = fmt::format("{:06o}", sum);
  std::memcpy(&block[148], checksum.c_str(), 7);
  return std::string(block.data(), block.size());
}

std::string padded(std::string content) {
  content.resize((content.size() + 511) / 512 * 512, '\0');
  return content;
}

const std::string k_end(1024, '\0');

Error read_error(const std::string& bytes) {
  auto read = read_tar(bytes, [](const TarHeaderInfo&, ContentReader& content) {
    auto data = content.read_all(1 << 20);
    return data.has_value() || data.error().message().find("allowed") != std::string::npos;
  });
  EXPECT_FALSE(read);
  return read ? Error(Errc::failed, "no error") : read.error();
}

TEST(TarReaderTest, DamagedArchivesAreInvalidWithTheOffset) {
  struct Case {
    std::string name;
    std::string bytes;
    std::string message;
  };
  std::string ok_header = header("a.txt", '0', "00000000005");
  std::vector<Case> cases{
      {"text", std::string(600, 'x'), "tar header at offset 0: bad checksum (not a tar archive?)"},
      {"short header", ok_header.substr(0, 300), "the archive ends at offset 300, inside a header"},
      {"short content", ok_header + "abc", "tar entry 'a.txt' at offset 0: the archive ends at offset 515, inside its content"},
      {"no padding", ok_header + "abcde", "the archive ends at offset 517, in padding"},
      {"huge size", header("a.txt", '0', "77777777777") + k_end,
       "tar entry 'a.txt' at offset 0: the archive ends at offset 1536, inside its content"},
      {"bad size", header("a.txt", '0', "12x") + k_end, "tar header at offset 0 ('a.txt'): bad size field"},
      {"negative base-256 size", header("a.txt", '0', std::string(12, '\xff')) + k_end,
       "tar header at offset 0 ('a.txt'): bad size field"},
      {"overflowing base-256 size", header("a.txt", '0', "\x80" + std::string(11, '\x7f')) + k_end,
       "tar header at offset 0 ('a.txt'): bad size field"},
      {"huge pax header", header("PaxHeaders/a", 'x', "20000000000") + k_end,
       "tar header at offset 0: an extended header of 2147483648 bytes (at most 1048576)"},
      {"huge long name", header("././@LongLink", 'L', "00050000000") + k_end,
       "tar header at offset 0: an extended header of 10485760 bytes (at most 1048576)"},
      {"pax length lies", header("PaxHeaders/a", 'x', "00000000013") + padded("99 path=b\n\n") + ok_header + padded("hello") + k_end,
       "tar header at offset 0: malformed PAX record"},
      {"pax without equals", header("PaxHeaders/a", 'x', "00000000010") + padded("8 pathb\n") + ok_header + padded("hello") + k_end,
       "tar header at offset 0: malformed PAX record"},
      {"pax bad size", header("PaxHeaders/a", 'x', "00000000013") + padded("11 size=-5\n") + ok_header + padded("hello") + k_end,
       "tar header at offset 1024: bad PAX size '-5'"},
      {"ends after long name", header("././@LongLink", 'L', "00000000004") + padded("abc"),
       "the archive ends at offset 1024 after an extended header"},
      {"header after end", ok_header + padded("hello") + std::string(512, '\0') + ok_header,
       "tar header at offset 1536: a header after an end-of-archive block"},
      {"gzip garbage", "\x1f\x8b" + std::string(100, 'g'), "reading the tar at offset 0: gzip: unknown compression method"},
      {"zstd garbage", "\x28\xb5\x2f\xfd" + std::string(100, 'z'), "reading the tar at offset 0: zstd: Unsupported frame parameter"},
      {"xz", std::string("\xfd" "7zXZ\0", 6) + std::string(100, 'x'), "xz-compressed layers are not supported"},
  };
  for (const Case& c : cases) {
    Error error = read_error(c.bytes);
    EXPECT_EQ(error.code(), Errc::invalid) << c.name;
    EXPECT_EQ(error.message(), c.message) << c.name;
  }
}

TEST(TarReaderTest, TruncatedArchivesFailAsInvalid) {
  test::TempDir dir;
  BlobStore store(dir / "store");
  for (auto mode : {CompressionMode::none, CompressionMode::gzip, CompressionMode::zstd}) {
    auto layer = build_layer(sample_entries(), {.compression = mode, .epoch = k_epoch}, store);
    ASSERT_TRUE(layer);
    std::string bytes = *core::read_file(*store.path(layer->descriptor.digest));
    size_t step = mode == CompressionMode::none ? 97 : 31;
    // A plain tar cut between entries reads as a shorter archive (as Go's archive/tar reads it),
    // so only cuts inside a block must fail; compressed streams know where they end.
    for (size_t cut = 1; cut + 64 < bytes.size(); cut += step) {
      if (mode == CompressionMode::none && cut % 512 == 0) continue;
      auto read = read_tar(bytes.substr(0, cut), [](const TarHeaderInfo&, ContentReader& content) {
        return content.read_all(1 << 20).has_value();
      });
      ASSERT_FALSE(read) << "cut at " << cut << " of " << bytes.size();
      EXPECT_EQ(read.error().code(), Errc::invalid) << cut << ": " << read.error().message();
      if (mode != CompressionMode::none || cut % 10 != 0) continue;
      // From a file, content nobody reads is skipped by seeking, which must notice the end too.
      ASSERT_TRUE(core::write_file_atomic(dir / "cut.tar", bytes.substr(0, cut)));
      auto from_file = read_tar(dir / "cut.tar", [](const TarHeaderInfo&, ContentReader&) { return true; });
      ASSERT_FALSE(from_file) << "cut at " << cut;
      EXPECT_EQ(from_file.error().code(), Errc::invalid) << cut << ": " << from_file.error().message();
    }
  }
}

TEST(TarReaderTest, RandomDamageNeverCrashesAndIsInvalid) {
  test::TempDir dir;
  BlobStore store(dir / "store");
  std::mt19937 random(20231114);
  for (auto mode : {CompressionMode::none, CompressionMode::gzip, CompressionMode::zstd}) {
    std::vector<TarEntry> entries = sample_entries();
    entries[4].content = "small";  // keeps each round quick
    auto layer = build_layer(entries, {.compression = mode, .epoch = k_epoch}, store);
    ASSERT_TRUE(layer);
    const std::string bytes = *core::read_file(*store.path(layer->descriptor.digest));
    for (int round = 0; round < 1500; ++round) {
      std::string damaged = bytes;
      int flips = 1 + static_cast<int>(random() % 4);
      for (int i = 0; i < flips; ++i) damaged[random() % damaged.size()] = static_cast<char>(random());
      if (round % 3 == 0) damaged.resize(random() % damaged.size());
      auto read = read_tar(damaged, [](const TarHeaderInfo&, ContentReader& content) {
        (void)content.read_all(1 << 20);
        return true;
      });
      if (!read) {
        EXPECT_EQ(read.error().code(), Errc::invalid) << read.error().message();
      }
    }
  }
}

}  // namespace
}  // namespace mlctl::oci
