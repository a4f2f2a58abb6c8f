#include <mlctl/oci/layer.hpp>

#include <mlctl/core/digest.hpp>
#include <mlctl/core/fs.hpp>

#include <support/run.hpp>
#include <support/temp_dir.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <random>

#include <fmt/format.h>
#include <gtest/gtest.h>

namespace mlctl::oci {
namespace {

namespace fs = std::filesystem;

std::string random_bytes(size_t size, unsigned seed) {
  std::mt19937_64 generator(seed);
  std::string out(size, '\0');
  for (size_t i = 0; i + 8 <= size; i += 8) {
    std::uint64_t value = generator();
    std::memcpy(&out[i], &value, 8);
  }
  return out;
}

std::string text_bytes(size_t size) {
  std::string out;
  for (int line = 0; out.size() < size; ++line) out += "feature_" + std::to_string(line % 97) + ",0.5,label\n";
  out.resize(size);
  return out;
}

void write_project(const test::TempDir& dir, const std::string& base) {
  dir.write(base + "/src/serve.py", "print('serve')\n");
  dir.write(base + "/src/run.sh", "#!/bin/sh\nexec python3 -m src.serve\n");
  dir.write(base + "/weights.bin", random_bytes(300 * 1024, 7));
  fs::create_symlink("serve.py", dir / (base + "/src/main.py"));
}

// The entries of a project written by write_project, as the build would list them.
std::vector<TarEntry> entries_of(const test::TempDir& dir, const std::string& base) {
  std::vector<TarEntry> entries;
  for (const char* path : {"src/serve.py", "src/run.sh", "src/main.py", "weights.bin"}) {
    auto entry = entry_from_disk(dir / (base + "/" + path), std::string("app/") + path);
    EXPECT_TRUE(entry) << path;
    entries.push_back(entry.value_or(TarEntry{}));
  }
  return entries;
}

std::vector<TarEntry> project(const test::TempDir& dir, const std::string& base) {
  write_project(dir, base);
  return entries_of(dir, base);
}

void set_mtime(const fs::path& path, time_t seconds) {
  struct timespec times[2] = {{seconds, 0}, {seconds, 0}};
  ASSERT_EQ(::utimensat(AT_FDCWD, path.c_str(), times, AT_SYMLINK_NOFOLLOW), 0);
}

std::string sha256_of_command(const std::vector<std::string>& argv) {
  auto done = test::run_command({"sh", "-c", argv.front() + " | sha256sum"}, fs::current_path());
  EXPECT_EQ(done.exit_code, 0) << done.err;
  return "sha256:" + done.out.substr(0, 64);
}

TEST(LayerTest, SameInputsGiveSameDigestAcrossFoldersTimesAndOwners) {
  test::TempDir dir;
  write_project(dir, "one");
  write_project(dir, "two");
  // The second copy differs in everything a layer must not depend on.
  for (const char* path : {"two/src/serve.py", "two/src/run.sh", "two/weights.bin", "two/src"}) {
    set_mtime(dir / path, 1234567);
    ASSERT_EQ(::lchown((dir / path).c_str(), 1234, 5678), 0);
  }
  fs::permissions(dir / "one/src/run.sh", fs::perms(0755));
  fs::permissions(dir / "two/src/run.sh", fs::perms(0700));
  fs::permissions(dir / "two/weights.bin", fs::perms(0600));
  auto first = entries_of(dir, "one");
  auto second = entries_of(dir, "two");

  LayerOptions options{.compression = CompressionMode::gzip, .epoch = 1700000000};
  BlobStore store_one(dir / "store-one");
  BlobStore store_two(dir / "store-two");
  auto layer_one = build_layer(first, options, store_one);
  auto again = build_layer(first, options, store_one);
  auto layer_two = build_layer(second, options, store_two);
  ASSERT_TRUE(layer_one && again && layer_two);
  EXPECT_EQ(layer_one->descriptor, again->descriptor);
  EXPECT_EQ(layer_one->descriptor, layer_two->descriptor);
  EXPECT_EQ(layer_one->diff_id, layer_two->diff_id);
  EXPECT_EQ(*core::read_file(*store_one.path(layer_one->descriptor.digest)),
            *core::read_file(*store_two.path(layer_two->descriptor.digest)));
}

TEST(LayerTest, DigestsAndSizesMatchSha256sumAndGzip) {
  test::TempDir dir;
  BlobStore store(dir / "store");
  auto layer = build_layer(project(dir, "p"), {.compression = CompressionMode::gzip, .epoch = 0}, store);
  ASSERT_TRUE(layer) << layer.error().message();
  std::string blob = store.path(layer->descriptor.digest)->string();
  EXPECT_EQ(layer->descriptor.media_type, "application/vnd.oci.image.layer.v1.tar+gzip");
  EXPECT_EQ(sha256_of_command({"cat " + blob}), layer->descriptor.digest);
  EXPECT_EQ(sha256_of_command({"gzip -dc " + blob}), layer->diff_id);
  EXPECT_EQ(static_cast<std::uint64_t>(layer->descriptor.size), fs::file_size(blob));
  auto tar_size = test::run_command({"sh", "-c", "gzip -dc " + blob + " | wc -c"}, dir.path());
  EXPECT_EQ(std::stoull(tar_size.out), layer->tar_size);
  auto listed = test::run_command({"sh", "-c", "gzip -dc " + blob + " | tar -t"}, dir.path());
  EXPECT_EQ(listed.out, "app/\napp/src/\napp/src/main.py\napp/src/run.sh\napp/src/serve.py\napp/weights.bin\n");
}

TEST(LayerTest, GzipHeaderHasNoNameNoTimeAndUnknownOs) {
  test::TempDir dir;
  BlobStore store(dir / "store");
  auto layer = build_layer({{.path = "a", .content = "a"}}, {.compression = CompressionMode::gzip}, store);
  ASSERT_TRUE(layer);
  std::string blob = *core::read_file(*store.path(layer->descriptor.digest));
  // ID1 ID2 CM=deflate FLG=0 MTIME=0 XFL=0 OS=255 (RFC 1952).
  EXPECT_EQ(blob.substr(0, 10), std::string("\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff", 10));
}

TEST(LayerTest, ZstdLayerDecompressesToTheDiffId) {
  test::TempDir dir;
  BlobStore store(dir / "store");
  auto layer = build_layer(project(dir, "p"), {.compression = CompressionMode::zstd}, store);
  ASSERT_TRUE(layer) << layer.error().message();
  std::string blob = store.path(layer->descriptor.digest)->string();
  EXPECT_EQ(layer->descriptor.media_type, "application/vnd.oci.image.layer.v1.tar+zstd");
  EXPECT_EQ(sha256_of_command({"cat " + blob}), layer->descriptor.digest);
  EXPECT_EQ(sha256_of_command({"zstd -dc " + blob}), layer->diff_id);
}

TEST(LayerTest, UncompressedLayerIsItsOwnDiffId) {
  test::TempDir dir;
  BlobStore store(dir / "store");
  auto layer = build_layer(project(dir, "p"), {.compression = CompressionMode::none}, store);
  ASSERT_TRUE(layer) << layer.error().message();
  EXPECT_EQ(layer->descriptor.media_type, "application/vnd.oci.image.layer.v1.tar");
  EXPECT_EQ(layer->descriptor.digest, layer->diff_id);
  EXPECT_EQ(static_cast<std::uint64_t>(layer->descriptor.size), layer->tar_size);
}

TEST(LayerTest, AutomaticPicksGzipForTextAndNoneForRandomBytes) {
  test::TempDir dir;
  dir.write("data.csv", text_bytes(2 << 20));
  dir.write("model.safetensors", random_bytes(2 << 20, 3));
  auto text = entry_from_disk(dir / "data.csv", "data.csv");
  auto weights = entry_from_disk(dir / "model.safetensors", "model.safetensors");
  ASSERT_TRUE(text && weights);
  EXPECT_EQ(choose_compression({*text}), Compression::gzip);
  EXPECT_EQ(choose_compression({*weights}), Compression::none);
  EXPECT_EQ(choose_compression({{.path = "a.py", .content = text_bytes(1000)}}), Compression::gzip);
  EXPECT_EQ(choose_compression({{.path = "empty", .kind = TarEntry::Kind::directory}}), Compression::gzip);

  BlobStore store(dir / "store");
  auto layer = build_layer({*weights}, {}, store);
  ASSERT_TRUE(layer);
  EXPECT_EQ(layer->compression, Compression::none);
  EXPECT_EQ(layer->descriptor.media_type, "application/vnd.oci.image.layer.v1.tar");
}

class RecordingReporter : public core::Reporter {
public:
  void step(std::string_view) override {}
  void debug(std::string_view) override {}
  void begin(std::string_view id, std::string_view label, std::uint64_t total) override {
    events.push_back(fmt::format("begin {} '{}' {}", id, label, total));
  }
  void advance(std::string_view id, std::uint64_t done) override { events.push_back(fmt::format("advance {} {}", id, done)); }
  void end(std::string_view id) override { events.push_back(fmt::format("end {}", id)); }
  std::vector<std::string> events;
};

TEST(LayerTest, ReportsProgressInTarBytes) {
  test::TempDir dir;
  BlobStore store(dir / "store");
  RecordingReporter reporter;
  std::string content(9 << 20, 'x');
  auto layer = build_layer({{.path = "big", .content = content}},
                           {.compression = CompressionMode::none, .name = "weights"}, store, reporter);
  ASSERT_TRUE(layer);
  // One header, the content in whole blocks, two zero blocks.
  std::uint64_t tar_size = 512 + content.size() + 1024;
  EXPECT_EQ(layer->tar_size, tar_size);
  ASSERT_GE(reporter.events.size(), 4u);
  EXPECT_EQ(reporter.events.front(), fmt::format("begin weights 'building weights' {}", tar_size));
  EXPECT_EQ(reporter.events[reporter.events.size() - 2], fmt::format("advance weights {}", tar_size));
  EXPECT_EQ(reporter.events.back(), "end weights");
}

TEST(LayerTest, FailureLeavesNothingInTheStore) {
  test::TempDir dir;
  BlobStore store(dir / "store");
  auto layer = build_layer({{.path = "ok", .content = "x"}, {.path = "gone", .source = dir / "gone"}}, {}, store);
  ASSERT_FALSE(layer);
  size_t files = 0;
  for (const auto& entry : fs::recursive_directory_iterator(dir / "store")) files += entry.is_regular_file();
  EXPECT_EQ(files, 0u);
  auto escaping = build_layer({{.path = "../x", .content = "x"}}, {}, store);
  ASSERT_FALSE(escaping);
  EXPECT_EQ(escaping.error().code(), Errc::invalid);
}

}  // namespace
}  // namespace mlctl::oci
