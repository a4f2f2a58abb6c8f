#include <mlctl/build/base_image.hpp>

#include <mlctl/core/digest.hpp>
#include <mlctl/core/fs.hpp>
#include <mlctl/oci/image.hpp>
#include <mlctl/oci/layer.hpp>
#include <mlctl/oci/layout.hpp>
#include <mlctl/oci/platform.hpp>

#include <oci/remote/capture_reporter.hpp>
#include <support/temp_dir.hpp>

#include <algorithm>

#include "test_images.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>

namespace mlctl::build {
namespace {

namespace fs = std::filesystem;
using oci::CompressionMode;
using oci::TarEntry;

using test::k_amd64;
using test::k_arm64;

class BaseImageTest : public ::testing::Test {
protected:
  oci::Image make_image(std::vector<std::vector<TarEntry>> layers, oci::Platform platform = k_amd64,
                        std::vector<std::string> env = {}, CompressionMode compression = CompressionMode::gzip) {
    return test::make_test_image(std::move(layers),
                                 {.platform = platform, .env = std::move(env), .compression = compression}, cache_);
  }

  oci::Image app_image(oci::Platform platform = k_amd64) {
    return make_image({{{.path = "etc/os-release", .content = "ID=test\n"}},
                       {{.path = "app/main.py", .content = "print('hi')\n"}}},
                      platform, {"PATH=/usr/bin:/bin"});
  }

  fs::path write(const oci::Image& image, std::string_view tag, std::string_view name = "layout") {
    fs::path layout = dir_ / name;
    auto written = oci::write_layout(layout, image, cache_, tag);
    EXPECT_TRUE(written) << written.error().message();
    return layout;
  }

  Result<BaseImage> resolve(const std::string& base, oci::Platform platform = k_amd64) {
    return resolve_base(base, BaseOptions{.platform = std::move(platform)}, reporter_);
  }

  // Replaces index.json of `layout` with `index`.
  void write_index(const fs::path& layout, const oci::Index& index) {
    ASSERT_TRUE(core::write_file_atomic(layout / "index.json", oci::to_json(index)));
  }

  void expect_error(const Result<BaseImage>& base, Errc code, const std::string& message, const std::string& hint = "") {
    ASSERT_FALSE(base) << "resolved to " << base->manifest_digest;
    EXPECT_EQ(base.error().code(), code);
    EXPECT_EQ(base.error().message(), message);
    if (!hint.empty()) {
      EXPECT_EQ(base.error().hint(), hint);
    }
  }

  test::TempDir dir_;
  oci::BlobStore cache_{dir_ / "cache"};
  test::CaptureReporter reporter_;
};

TEST_F(BaseImageTest, ScratchIsAnEmptyConfigForThePlatform) {
  auto base = resolve("scratch", k_arm64);
  ASSERT_TRUE(base) << base.error().message();
  EXPECT_EQ(base->source, BaseImage::Source::scratch);
  EXPECT_EQ(base->name, "scratch");
  oci::ImageConfig expected;
  expected.architecture = "arm64";
  expected.os = "linux";
  expected.variant = "v8";
  EXPECT_EQ(base->config, expected);
  EXPECT_TRUE(base->layers.empty());
  EXPECT_EQ(base->manifest_digest, "");
  EXPECT_EQ(base->config_digest, "");
  EXPECT_FALSE(base->reference);
  oci::BlobStore store(dir_ / "store");
  EXPECT_TRUE(fetch_base_layers(*base, store, {}, reporter_));
  EXPECT_FALSE(fs::exists(dir_ / "store"));
  EXPECT_EQ(base_python_version(*base, store).value(), std::nullopt);
}

TEST_F(BaseImageTest, EmptyPlatformMeansTheHost) {
  auto base = resolve_base("scratch", {}, reporter_);
  ASSERT_TRUE(base);
  EXPECT_EQ(base->config.architecture, oci::host_platform().architecture);
  EXPECT_EQ(base->config.os, "linux");
}

TEST_F(BaseImageTest, LayoutResolvesByFolderAndByTag) {
  oci::Image image = app_image();
  fs::path layout = write(image, "1");
  for (const std::string& name : {"oci:" + layout.string(), "oci:" + layout.string() + ":1"}) {
    auto base = resolve(name);
    ASSERT_TRUE(base) << name << ": " << base.error().message();
    EXPECT_EQ(base->source, BaseImage::Source::layout);
    EXPECT_EQ(base->name, name);
    EXPECT_EQ(base->layout_dir, layout);
    EXPECT_EQ(base->manifest_digest, image.descriptor().digest);
    EXPECT_EQ(base->config_digest, image.manifest.config.digest);
    EXPECT_EQ(base->config, image.config);
    EXPECT_EQ(base->layers, image.manifest.layers);
    EXPECT_FALSE(base->reference);
  }
}

TEST_F(BaseImageTest, FetchCopiesLayoutLayersIntoTheStoreOnce) {
  oci::Image image = app_image();
  fs::path layout = write(image, "1");
  auto base = resolve("oci:" + layout.string());
  ASSERT_TRUE(base);
  oci::BlobStore store(dir_ / "store");
  ASSERT_TRUE(fetch_base_layers(*base, store, {}, reporter_));
  std::vector<std::string> steps;
  for (const auto& layer : image.manifest.layers) {
    ASSERT_TRUE(store.has(layer.digest));
    EXPECT_EQ(core::sha256_digest(*core::read_file(*store.path(layer.digest))), layer.digest);
    steps.push_back(fmt::format("step: copied base layer {} ({} bytes)", layer.digest.substr(0, 19), layer.size));
  }
  auto lines = reporter_.lines();
  for (const auto& step : steps) EXPECT_NE(std::ranges::find(lines, step), lines.end()) << step;

  auto again = fetch_base_layers(*base, store, {}, reporter_);
  ASSERT_TRUE(again);
  auto after = reporter_.lines();
  EXPECT_EQ(std::ranges::count_if(after, [](const auto& line) { return line.starts_with("step: copied"); }), 2)
      << "blobs already in the store are not copied again";
}

TEST_F(BaseImageTest, LayoutWithSeveralTagsNeedsOneOrLatest) {
  oci::Image one = app_image();
  oci::Image two = make_image({{{.path = "two", .content = "2"}}});
  fs::path layout = write(one, "1");
  write(two, "2");
  std::string dir = layout.string();
  expect_error(resolve("oci:" + dir), Errc::not_found,
               "base image 'oci:" + dir + "' not found: " + dir + " holds 2 images and none is tagged 'latest'",
               "name one as oci:" + dir + ":TAG; its tags: 1, 2");
  auto second = resolve("oci:" + dir + ":2");
  ASSERT_TRUE(second);
  EXPECT_EQ(second->manifest_digest, two.descriptor().digest);
  write(two, "latest");
  auto latest = resolve("oci:" + dir);
  ASSERT_TRUE(latest) << latest.error().message();
  EXPECT_EQ(latest->manifest_digest, two.descriptor().digest);
}

TEST_F(BaseImageTest, MissingLayoutOrTagIsNotFound) {
  std::string missing = (dir_ / "nowhere").string();
  expect_error(resolve("oci:" + missing), Errc::not_found,
               "base image 'oci:" + missing + "' not found: no folder " + missing,
               "make one with `skopeo copy docker://IMAGE oci:" + missing + ":TAG`, or change image.base");
  fs::create_directories(dir_ / "empty");
  std::string empty = (dir_ / "empty").string();
  expect_error(resolve("oci:" + empty + ":1"), Errc::not_found,
               "base image 'oci:" + empty + ":1' not found: " + empty + " is not an OCI image layout (no index.json)");
  fs::path layout = write(app_image(), "1");
  std::string dir = layout.string();
  expect_error(resolve("oci:" + dir + ":2"), Errc::not_found,
               "base image 'oci:" + dir + ":2' not found: no tag '2' in " + dir, "its tags: 1");
}

TEST_F(BaseImageTest, MalformedNamesAreInvalid) {
  fs::path layout = write(app_image(), "1");
  for (const std::string& name : {std::string(""), std::string("oci:"), std::string("oci::1"),
                                  "oci:" + layout.string() + ":", "oci:" + layout.string() + ":-bad",
                                  std::string("Registry.Example/UPPER:1"), std::string("127.0.0.1:5000/base:bad tag")}) {
    auto base = resolve(name);
    ASSERT_FALSE(base) << name;
    EXPECT_EQ(base.error().code(), Errc::invalid) << name << ": " << base.error().message();
  }
}

TEST_F(BaseImageTest, ABaseForAnotherPlatformIsInvalid) {
  fs::path layout = write(app_image(k_amd64), "1");
  std::string name = "oci:" + layout.string();
  expect_error(resolve(name, k_arm64), Errc::invalid,
               "base image '" + name + "' is for linux/amd64, not linux/arm64/v8",
               "use a base image built for linux/arm64/v8 (or a multi-platform one), or build for linux/amd64");
}

TEST_F(BaseImageTest, MultiPlatformLayoutPicksThePlatform) {
  oci::Image amd64 = app_image(k_amd64);
  oci::Image arm64 = make_image({{{.path = "arm", .content = "arm64 build\n"}}}, k_arm64);
  fs::path layout = write(amd64, "amd64");
  write(arm64, "arm64");
  oci::Index platforms;
  platforms.manifests = {amd64.descriptor(), arm64.descriptor()};

  // index.json listing the two platforms' manifests, without tags.
  write_index(layout, platforms);
  for (const auto& [platform, image] : {std::pair{k_amd64, amd64}, std::pair{k_arm64, arm64}}) {
    auto base = resolve("oci:" + layout.string(), platform);
    ASSERT_TRUE(base) << base.error().message();
    EXPECT_EQ(base->manifest_digest, image.descriptor().digest);
    EXPECT_EQ(base->config, image.config);
  }

  // index.json naming one image index under a tag (as `skopeo copy --all` writes).
  auto index_digest = oci::BlobStore(layout).put(oci::to_json(platforms));
  ASSERT_TRUE(index_digest);
  std::string index_json = oci::to_json(platforms);
  oci::Index top;
  top.manifests = {{.media_type = std::string(oci::k_oci_index),
                    .digest = *index_digest,
                    .size = static_cast<std::int64_t>(index_json.size()),
                    .annotations = {{std::string(oci::k_ref_name_annotation), "multi"}}}};
  write_index(layout, top);
  for (const auto& [platform, image] : {std::pair{k_amd64, amd64}, std::pair{k_arm64, arm64}}) {
    auto base = resolve("oci:" + layout.string() + ":multi", platform);
    ASSERT_TRUE(base) << base.error().message();
    EXPECT_EQ(base->manifest_digest, image.descriptor().digest);
    EXPECT_EQ(base->layers, image.manifest.layers);
  }
  expect_error(resolve("oci:" + layout.string() + ":multi", *oci::parse_platform("linux/s390x")), Errc::not_found,
               "base image 'oci:" + layout.string() + ":multi': no image for linux/s390x; there are images for "
               "linux/amd64, linux/arm64/v8");
}

TEST_F(BaseImageTest, TamperedLayoutBlobsAreRefused) {
  oci::Image image = app_image();
  fs::path layout = write(image, "1");
  auto base = resolve("oci:" + layout.string());
  ASSERT_TRUE(base);
  // A layer edited in place (a hard link into the cache, so it is replaced, not written through).
  fs::path layer = layout / "blobs/sha256" / image.manifest.layers[1].digest.substr(7);
  fs::remove(layer);
  ASSERT_TRUE(core::write_file_atomic(layer, "not the layer"));
  oci::BlobStore store(dir_ / "store");
  auto fetched = fetch_base_layers(*base, store, {}, reporter_);
  ASSERT_FALSE(fetched);
  EXPECT_EQ(fetched.error().code(), Errc::invalid);
  EXPECT_EQ(fetched.error().message(), "base image 'oci:" + layout.string() + "': layer " +
                                           image.manifest.layers[1].digest + " in " + layout.string() +
                                           " does not match its digest or size");
  EXPECT_FALSE(store.has(image.manifest.layers[1].digest));

  fs::path config = layout / "blobs/sha256" / image.manifest.config.digest.substr(7);
  fs::remove(config);
  ASSERT_TRUE(core::write_file_atomic(config, "{}"));
  auto again = resolve("oci:" + layout.string());
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code(), Errc::invalid);
}

TEST_F(BaseImageTest, PythonVersionFromTheConfigEnvironment) {
  oci::Image image = make_image({{{.path = "etc/hostname", .content = "x\n"}}}, k_amd64,
                                {"PATH=/usr/local/bin:/usr/bin", "PYTHON_VERSION=3.11.7", "LANG=C.UTF-8"});
  auto base = resolve("oci:" + write(image, "1").string());
  ASSERT_TRUE(base);
  oci::BlobStore empty(dir_ / "empty");  // the environment is enough: no layer is read
  auto version = base_python_version(*base, empty);
  ASSERT_TRUE(version) << version.error().message();
  EXPECT_EQ(*version, "3.11");
}

TEST_F(BaseImageTest, PythonVersionFromTheLayers) {
  oci::Image image = make_image({{{.path = "usr/bin/python3.11", .content = "ELF", .executable = true},
                                  {.path = "usr/lib/python3.11/os.py", .content = "# os\n"},
                                  {.path = "usr/bin/python3", .kind = TarEntry::Kind::symlink, .link_target = "python3.11"}}},
                                k_amd64, {}, CompressionMode::zstd);
  auto base = resolve("oci:" + write(image, "1").string());
  ASSERT_TRUE(base);
  oci::BlobStore store(dir_ / "store");
  auto unfetched = base_python_version(*base, store);
  ASSERT_FALSE(unfetched);
  EXPECT_EQ(unfetched.error().code(), Errc::not_found);
  ASSERT_TRUE(fetch_base_layers(*base, store, {}, reporter_));
  auto version = base_python_version(*base, store);
  ASSERT_TRUE(version) << version.error().message();
  EXPECT_EQ(*version, "3.11");
}

TEST_F(BaseImageTest, PythonVersionIsTheHighestLeftAfterWhiteouts) {
  oci::Image image = make_image(
      {
          {{.path = "usr/bin/python3.9", .content = "ELF"},
           {.path = "usr/lib/python3.11/os.py", .content = "# os\n"},
           {.path = "usr/local/bin/python3.12", .content = "ELF"}},
          // Deletes python 3.12 and, with an opaque usr/lib, the 3.11 library.
          {{.path = "usr/local/bin/.wh.python3.12", .content = ""},
           {.path = "usr/lib/.wh..wh..opq", .content = ""},
           {.path = "usr/lib/x86_64-linux-gnu/libc.so.6", .content = "ELF"}},
      },
      k_amd64, {}, CompressionMode::none);
  auto base = resolve("oci:" + write(image, "1").string());
  ASSERT_TRUE(base);
  oci::BlobStore store(dir_ / "store");
  ASSERT_TRUE(fetch_base_layers(*base, store, {}, reporter_));
  EXPECT_EQ(base_python_version(*base, store).value(), "3.9");

  // Versions compare as numbers: 3.11 is above 3.9.
  oci::Image kept = make_image({{{.path = "usr/bin/python3.9", .content = "ELF"},
                                 {.path = "usr/lib/python3.11/os.py", .content = "# os\n"}}});
  auto kept_base = resolve("oci:" + write(kept, "1", "kept").string());
  ASSERT_TRUE(kept_base);
  ASSERT_TRUE(fetch_base_layers(*kept_base, store, {}, reporter_));
  EXPECT_EQ(base_python_version(*kept_base, store).value(), "3.11");
}

TEST_F(BaseImageTest, NoPythonInTheBaseIsNone) {
  oci::Image image = make_image({{{.path = "bin/busybox", .content = "ELF"},
                                  {.path = "usr/lib/python3/dist-packages/x.py", .content = ""},
                                  {.path = "usr/bin/python3.11-config", .content = ""},
                                  {.path = "opt/usr/bin/python3.11", .content = ""}}},
                                k_amd64, {"PYTHON_VERSION=unknown"});
  auto base = resolve("oci:" + write(image, "1").string());
  ASSERT_TRUE(base);
  oci::BlobStore store(dir_ / "store");
  ASSERT_TRUE(fetch_base_layers(*base, store, {}, reporter_));
  auto version = base_python_version(*base, store);
  ASSERT_TRUE(version) << version.error().message();
  EXPECT_EQ(*version, std::nullopt);
}

}  // namespace
}  // namespace mlctl::build
