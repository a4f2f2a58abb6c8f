#include <mlctl/build/layer_cache.hpp>

#include <support/temp_dir.hpp>

#include <sys/stat.h>

#include <chrono>
#include <filesystem>

#include <gtest/gtest.h>

namespace mlctl::build {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

class LayerCacheTest : public ::testing::Test {
protected:
  LayerCacheTest() : cache_(cache_dir_.path()) {
    cache_.racy_window = 0ns;  // files written by the test count as settled at once
    project_.write("main.py", "print('hello')\n");
    project_.write("lib/util.py", "X = 1\n");
  }

  std::vector<oci::TarEntry> entries() const {
    return {{.path = "app/main.py", .source = project_ / "main.py"},
            {.path = "app/lib/util.py", .source = project_ / "lib/util.py"},
            {.path = "app/VERSION", .content = "1\n"}};
  }

  oci::LayerOptions options(std::int64_t epoch = 1700000000) const {
    return {.compression = oci::CompressionMode::gzip, .epoch = epoch, .name = "code"};
  }

  test::TempDir cache_dir_;
  test::TempDir project_;
  LayerCache cache_;
};

TEST_F(LayerCacheTest, SecondBuildOfUnchangedFilesComesFromTheCache) {
  auto first = cache_.get_or_build(entries(), options(), core::silent_reporter());
  ASSERT_TRUE(first) << first.error().message();
  EXPECT_FALSE(first->cached);
  auto second = cache_.get_or_build(entries(), options(), core::silent_reporter());
  ASSERT_TRUE(second) << second.error().message();
  EXPECT_TRUE(second->cached);
  EXPECT_EQ(second->layer.descriptor, first->layer.descriptor);
  EXPECT_EQ(second->layer.diff_id, first->layer.diff_id);
  EXPECT_EQ(second->layer.tar_size, first->layer.tar_size);
  EXPECT_EQ(second->layer.compression, oci::Compression::gzip);
  EXPECT_TRUE(cache_.blobs().has(first->layer.descriptor.digest));
}

TEST_F(LayerCacheTest, AChangedFileIsRebuiltToDifferentBytes) {
  auto first = cache_.get_or_build(entries(), options(), core::silent_reporter());
  ASSERT_TRUE(first);
  project_.write("main.py", "print('hello, world')\n");
  auto second = cache_.get_or_build(entries(), options(), core::silent_reporter());
  ASSERT_TRUE(second);
  EXPECT_FALSE(second->cached);
  EXPECT_NE(second->layer.descriptor.digest, first->layer.descriptor.digest);
}

TEST_F(LayerCacheTest, SameSizeRewriteChangesTheKeyThroughTimestamps) {
  auto before = cache_.key(entries(), options());
  ASSERT_TRUE(before && *before);
  project_.write("main.py", "print('HELLO')\n");  // same size as before
  auto after = cache_.key(entries(), options());
  ASSERT_TRUE(after && *after);
  EXPECT_NE(**before, **after);
}

TEST_F(LayerCacheTest, EpochCompressionAndInlineContentArePartOfTheKey) {
  auto base = cache_.key(entries(), options());
  auto other_epoch = cache_.key(entries(), options(0));
  auto none = cache_.key(entries(), {.compression = oci::CompressionMode::none, .epoch = 1700000000});
  auto changed_content = entries();
  changed_content.back().content = "2\n";
  auto other_content = cache_.key(changed_content, options());
  ASSERT_TRUE(base && other_epoch && none && other_content);
  EXPECT_NE(**base, **other_epoch);
  EXPECT_NE(**base, **none);
  EXPECT_NE(**base, **other_content);
  EXPECT_EQ(**base, **cache_.key(entries(), options()));
}

TEST_F(LayerCacheTest, RecentlyModifiedFilesAreBuiltButNotRemembered) {
  cache_.racy_window = std::chrono::hours(1);
  auto key = cache_.key(entries(), options());
  ASSERT_TRUE(key);
  EXPECT_FALSE(key->has_value());
  auto first = cache_.get_or_build(entries(), options(), core::silent_reporter());
  auto second = cache_.get_or_build(entries(), options(), core::silent_reporter());
  ASSERT_TRUE(first && second);
  EXPECT_FALSE(first->cached);
  EXPECT_FALSE(second->cached);
  EXPECT_EQ(second->layer.descriptor.digest, first->layer.descriptor.digest);  // deterministic anyway
  EXPECT_FALSE(fs::exists(cache_dir_ / "layers"));
}

TEST_F(LayerCacheTest, ALostBlobIsNotACacheHit) {
  auto first = cache_.get_or_build(entries(), options(), core::silent_reporter());
  ASSERT_TRUE(first);
  fs::remove(*cache_.blobs().path(first->layer.descriptor.digest));
  auto second = cache_.get_or_build(entries(), options(), core::silent_reporter());
  ASSERT_TRUE(second);
  EXPECT_FALSE(second->cached);
  EXPECT_TRUE(cache_.blobs().has(first->layer.descriptor.digest));
}

TEST_F(LayerCacheTest, ACorruptRecordIsIgnored) {
  auto key = cache_.key(entries(), options());
  ASSERT_TRUE(key && *key);
  cache_dir_.write("layers/" + **key + ".json", "{not json");
  EXPECT_FALSE(cache_.find(**key).has_value());
  auto built = cache_.get_or_build(entries(), options(), core::silent_reporter());
  ASSERT_TRUE(built);
  EXPECT_FALSE(built->cached);
  EXPECT_TRUE(cache_.find(**key).has_value());
}

TEST_F(LayerCacheTest, MissingSourceFileIsAnError) {
  fs::remove(project_ / "main.py");
  auto built = cache_.get_or_build(entries(), options(), core::silent_reporter());
  ASSERT_FALSE(built);
  EXPECT_NE(built.error().message().find("main.py"), std::string::npos) << built.error().message();
}

}  // namespace
}  // namespace mlctl::build
