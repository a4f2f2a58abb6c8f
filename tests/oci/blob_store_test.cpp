#include <mlctl/oci/blob_store.hpp>

#include <mlctl/core/digest.hpp>
#include <mlctl/core/fs.hpp>

#include <support/temp_dir.hpp>

#include <sys/stat.h>

#include <gtest/gtest.h>

namespace mlctl::oci {
namespace {

namespace fs = std::filesystem;

size_t file_count(const fs::path& dir) {
  size_t count = 0;
  for (const auto& entry : fs::recursive_directory_iterator(dir)) count += entry.is_regular_file() ? 1 : 0;
  return count;
}

TEST(BlobStoreTest, PutStoresContentUnderItsDigest) {
  test::TempDir dir;
  BlobStore store(dir.path());
  auto digest = store.put("hello");
  ASSERT_TRUE(digest) << digest.error().message();
  EXPECT_EQ(*digest, core::sha256_digest("hello"));
  EXPECT_TRUE(store.has(*digest));
  EXPECT_EQ(dir.read("blobs/sha256/" + core::sha256_hex("hello")), "hello");
  ASSERT_TRUE(store.put("hello")) << "putting the same content again is a no-op";
  EXPECT_EQ(file_count(dir.path()), 1u) << "no temporary file is left behind";
}

TEST(BlobStoreTest, HostileDigestsNeverNameAPath) {
  test::TempDir dir;
  BlobStore store(dir.path());
  for (std::string digest : {std::string("sha256:../../etc/passwd"), "sha256:" + std::string(64, 'A'), std::string("md5:abc"), std::string()}) {
    EXPECT_FALSE(store.has(digest)) << digest;
    auto path = store.path(digest);
    ASSERT_FALSE(path) << digest;
    EXPECT_EQ(path.error().code(), Errc::invalid);
  }
}

TEST(BlobStoreTest, DroppedTemporaryFileLeavesNothing) {
  test::TempDir dir;
  BlobStore store(dir.path());
  {
    auto temp = store.create_temp();
    ASSERT_TRUE(temp) << temp.error().message();
    EXPECT_TRUE(fs::exists(temp->path()));
  }
  EXPECT_EQ(file_count(dir.path()), 0u);
}

TEST(BlobStoreTest, CopyFromHardLinksOnTheSameFilesystem) {
  test::TempDir dir;
  BlobStore cache(dir / "cache");
  BlobStore layout(dir / "layout");
  auto digest = cache.put("layer bytes");
  ASSERT_TRUE(digest);
  ASSERT_TRUE(layout.copy_from(cache, *digest));
  EXPECT_TRUE(layout.has(*digest));
  struct stat info {};
  ASSERT_EQ(::stat(layout.path(*digest)->c_str(), &info), 0);
  EXPECT_EQ(info.st_nlink, 2u);
  auto missing = layout.copy_from(cache, core::sha256_digest("absent"));
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code(), Errc::not_found);
}

}  // namespace
}  // namespace mlctl::oci
