// Base images in the real Debian docker-registry, pushed and inspected with skopeo.
#include <mlctl/build/base_image.hpp>

#include <mlctl/core/digest.hpp>
#include <mlctl/core/fs.hpp>
#include <mlctl/oci/image.hpp>
#include <mlctl/oci/layer.hpp>
#include <mlctl/oci/layout.hpp>
#include <mlctl/oci/platform.hpp>
#include <mlctl/oci/remote/curl_transport.hpp>

#include <oci/remote/capture_reporter.hpp>
#include <oci/remote/registry_fixture.hpp>
#include <support/run.hpp>
#include <support/temp_dir.hpp>

#include <algorithm>

#include "test_images.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>

namespace mlctl::build {
namespace {

namespace fs = std::filesystem;
using oci::TarEntry;
using test::RegistryServer;

using test::k_amd64;
using test::k_arm64;

class BaseRegistryTest : public ::testing::Test {
protected:
  oci::Image make_image(std::vector<std::vector<TarEntry>> layers, oci::Platform platform) {
    return test::make_test_image(
        std::move(layers),
        {.platform = platform, .env = {"PATH=/usr/local/bin:/usr/bin:/bin"}, .cmd = std::vector<std::string>{"/bin/sh"}},
        cache_);
  }

  // Two layers: a Python 3.11 "system" and an app.
  oci::Image python_image(oci::Platform platform = k_amd64) {
    return make_image({{{.path = "usr/bin/python3.11", .content = "ELF " + oci::to_string(platform), .executable = true},
                        {.path = "usr/lib/python3.11/os.py", .content = "# os\n"}},
                       {{.path = "app/main.py", .content = "print('hi')\n"}}},
                      platform);
  }

  // A layout tagged "multi" whose index.json names one image index of `images` (what
  // `skopeo copy --all` reads and writes). Returns the index's digest.
  std::string write_multi_platform(const fs::path& layout, const std::vector<oci::Image>& images) {
    oci::Index platforms;
    for (const auto& image : images) {
      EXPECT_TRUE(oci::write_layout(layout, image, cache_, "tmp"));
      platforms.manifests.push_back(image.descriptor());
    }
    std::string index_json = oci::to_json(platforms);
    auto digest = oci::BlobStore(layout).put(index_json);
    EXPECT_TRUE(digest);
    oci::Index top;
    top.manifests = {{.media_type = std::string(oci::k_oci_index),
                      .digest = digest.value_or(""),
                      .size = static_cast<std::int64_t>(index_json.size()),
                      .annotations = {{std::string(oci::k_ref_name_annotation), "multi"}}}};
    EXPECT_TRUE(core::write_file_atomic(layout / "index.json", oci::to_json(top)));
    return digest.value_or("");
  }

  void skopeo_copy(const std::vector<std::string>& args) {
    std::vector<std::string> argv{"skopeo", "copy", "-q"};
    argv.insert(argv.end(), args.begin(), args.end());
    auto copied = test::run_command(argv, dir_.path());
    ASSERT_EQ(copied.exit_code, 0) << copied.err;
  }

  void push(const fs::path& layout, std::string_view tag, const std::string& destination,
            std::vector<std::string> extra = {}) {
    std::vector<std::string> args{"oci:" + layout.string() + ":" + std::string(tag), "docker://" + destination,
                                  "--dest-tls-verify=false"};
    args.insert(args.end(), extra.begin(), extra.end());
    skopeo_copy(args);
  }

  std::string skopeo_digest(const std::string& reference, std::vector<std::string> extra = {}) {
    std::vector<std::string> argv{"skopeo", "inspect", "--tls-verify=false", "--format", "{{.Digest}}",
                                  "docker://" + reference};
    argv.insert(argv.end(), extra.begin(), extra.end());
    auto inspected = test::run_command(argv, dir_.path());
    EXPECT_EQ(inspected.exit_code, 0) << inspected.err;
    std::string out = inspected.out;
    while (!out.empty() && out.back() == '\n') out.pop_back();
    return out;
  }

  BaseOptions options(oci::Platform platform = k_amd64) {
    return BaseOptions{.platform = std::move(platform), .transport = &transport_};
  }

  std::size_t count_lines(std::string_view prefix) const {
    auto lines = reporter_.lines();
    return static_cast<std::size_t>(std::ranges::count_if(lines, [&](const auto& line) { return line.starts_with(prefix); }));
  }

  test::TempDir dir_;
  oci::BlobStore cache_{dir_ / "cache"};
  oci::remote::CurlTransport transport_;
  test::CaptureReporter reporter_;
};

TEST_F(BaseRegistryTest, PushedImageResolvesToTheDigestSkopeoReports) {
  RegistryServer registry;
  oci::Image image = python_image();
  fs::path layout = dir_ / "layout";
  ASSERT_TRUE(oci::write_layout(layout, image, cache_, "1"));
  std::string name = registry.host() + "/base:1";
  push(layout, "1", name);
  std::string digest = skopeo_digest(name);
  ASSERT_EQ(digest, image.descriptor().digest) << "skopeo kept the manifest as written";

  auto base = resolve_base(name, options(), reporter_);
  ASSERT_TRUE(base) << base.error().message();
  EXPECT_EQ(base->source, BaseImage::Source::registry);
  EXPECT_EQ(base->name, name);
  EXPECT_EQ(base->manifest_digest, digest);
  ASSERT_TRUE(base->reference);
  EXPECT_EQ(base->reference->str(), name + "@" + digest);
  EXPECT_EQ(base->config_digest, image.manifest.config.digest);
  EXPECT_EQ(base->config, image.config);
  EXPECT_EQ(base->layers, image.manifest.layers);

  oci::BlobStore store(dir_ / "store");
  ASSERT_TRUE(fetch_base_layers(*base, store, options(), reporter_));
  for (const auto& layer : image.manifest.layers) {
    ASSERT_TRUE(store.has(layer.digest)) << layer.digest;
    EXPECT_EQ(core::sha256_digest(*core::read_file(*store.path(layer.digest))), layer.digest);
    std::string step = fmt::format("step: pulled base layer {} ({} bytes)", layer.digest.substr(0, 19), layer.size);
    auto lines = reporter_.lines();
    EXPECT_NE(std::ranges::find(lines, step), lines.end()) << step << "\n" << reporter_.all();
  }
  EXPECT_EQ(count_lines("step: pulled base layer"), 2u);
  ASSERT_TRUE(fetch_base_layers(*base, store, options(), reporter_));
  EXPECT_EQ(count_lines("step: pulled base layer"), 2u) << "layers in the store are not pulled again";

  auto python = base_python_version(*base, store);
  ASSERT_TRUE(python) << python.error().message();
  EXPECT_EQ(*python, "3.11");
}

TEST_F(BaseRegistryTest, MultiPlatformIndexResolvesPerPlatform) {
  RegistryServer registry;
  oci::Image amd64 = python_image(k_amd64);
  oci::Image arm64 = python_image(k_arm64);
  fs::path layout = dir_ / "layout";
  std::string index_digest = write_multi_platform(layout, {amd64, arm64});
  std::string name = registry.host() + "/base:multi";
  push(layout, "multi", name, {"--all"});
  auto raw = test::run_command({"skopeo", "inspect", "--raw", "--tls-verify=false", "docker://" + name}, dir_.path());
  ASSERT_TRUE(raw.ok()) << raw.err;
  ASSERT_EQ(core::sha256_digest(raw.out), index_digest);
  EXPECT_EQ(skopeo_digest(name, {"--override-arch", "arm64", "--override-variant", "v8"}), index_digest)
      << "skopeo reports the index's digest for a multi-platform tag";

  struct Case {
    std::string platform;
    const oci::Image& image;
  };
  for (const Case& c : {Case{"linux/amd64", amd64}, Case{"linux/arm64/v8", arm64}, Case{"linux/arm64", arm64}}) {
    auto base = resolve_base(name, options(*oci::parse_platform(c.platform)), reporter_);
    ASSERT_TRUE(base) << c.platform << ": " << base.error().message();
    EXPECT_EQ(base->manifest_digest, c.image.descriptor().digest) << c.platform;
    EXPECT_EQ(base->reference->digest, c.image.descriptor().digest) << c.platform;
    EXPECT_EQ(base->config, c.image.config) << c.platform;
    EXPECT_EQ(base->layers, c.image.manifest.layers) << c.platform;
  }

  // Pinned by the index's digest, as a Dockerfile FROM would be.
  std::string pinned = registry.host() + "/base@" + index_digest;
  auto base = resolve_base(pinned, options(k_arm64), reporter_);
  ASSERT_TRUE(base) << base.error().message();
  EXPECT_EQ(base->manifest_digest, arm64.descriptor().digest);
  oci::BlobStore store(dir_ / "store");
  ASSERT_TRUE(fetch_base_layers(*base, store, options(k_arm64), reporter_));
  for (const auto& layer : arm64.manifest.layers) EXPECT_TRUE(store.has(layer.digest));
  EXPECT_FALSE(store.has(amd64.manifest.layers[0].digest)) << "only the platform's layers are pulled";

  auto s390x = resolve_base(name, options(*oci::parse_platform("linux/s390x")), reporter_);
  ASSERT_FALSE(s390x);
  EXPECT_EQ(s390x.error().code(), Errc::not_found);
  EXPECT_EQ(s390x.error().message(),
            "base image '" + name + "': no image for linux/s390x; there are images for linux/amd64, linux/arm64/v8");
}

TEST_F(BaseRegistryTest, MissingImageOrTagIsNotFound) {
  RegistryServer registry;
  fs::path layout = dir_ / "layout";
  ASSERT_TRUE(oci::write_layout(layout, python_image(), cache_, "1"));
  push(layout, "1", registry.host() + "/base:1");
  for (const std::string& name : {registry.host() + "/missing:1", registry.host() + "/base:2"}) {
    auto base = resolve_base(name, options(), reporter_);
    ASSERT_FALSE(base) << name;
    EXPECT_EQ(base.error().code(), Errc::not_found) << base.error().message();
    EXPECT_EQ(base.error().message(), "base image '" + name + "' not found in " + registry.host());
    EXPECT_TRUE(base.error().hint().starts_with("check image.base and that the image was pushed; the registry said: "))
        << base.error().hint();
  }
}

TEST_F(BaseRegistryTest, PrivateRegistryNeedsCredentialsAndNeverShowsThem) {
  const std::string password = "Corr3ct-Horse-Battery";
  RegistryServer registry(RegistryServer::Htpasswd{"mluser", password});
  oci::Image image = python_image();
  fs::path layout = dir_ / "layout";
  ASSERT_TRUE(oci::write_layout(layout, image, cache_, "1"));
  std::string name = registry.host() + "/private/base:1";
  push(layout, "1", name, {"--dest-creds", "mluser:" + password});

  oci::remote::CredentialSources good{.username = "mluser", .password = password, .auth_files = {}};
  BaseOptions with_credentials = options();
  with_credentials.credentials = &good;
  auto base = resolve_base(name, with_credentials, reporter_);
  ASSERT_TRUE(base) << base.error().message();
  EXPECT_EQ(base->manifest_digest, image.descriptor().digest);
  oci::BlobStore store(dir_ / "store");
  ASSERT_TRUE(fetch_base_layers(*base, store, with_credentials, reporter_));
  EXPECT_TRUE(store.has(image.manifest.layers[1].digest));

  oci::remote::CredentialSources wrong{.username = "mluser", .password = "wrong-" + password, .auth_files = {}};
  for (const oci::remote::CredentialSources* sources : {static_cast<const oci::remote::CredentialSources*>(nullptr),
                                                        static_cast<const oci::remote::CredentialSources*>(&wrong)}) {
    BaseOptions refused = options();
    refused.credentials = sources;
    auto failed = resolve_base(name, refused, reporter_);
    ASSERT_FALSE(failed);
    EXPECT_EQ(failed.error().code(), Errc::remote) << failed.error().message();
    EXPECT_TRUE(failed.error().message().starts_with("base image '" + name + "': ")) << failed.error().message();
    EXPECT_NE(failed.error().message().find("401"), std::string::npos) << failed.error().message();
    EXPECT_EQ(failed.error().message().find(password), std::string::npos);
    EXPECT_EQ(failed.error().hint().find(password), std::string::npos);
  }
  EXPECT_EQ(reporter_.all().find(password), std::string::npos);
}

TEST_F(BaseRegistryTest, LayoutsSkopeoWritesResolveToTheRegistrysImage) {
  RegistryServer registry;
  oci::Image amd64 = python_image(k_amd64);
  oci::Image arm64 = python_image(k_arm64);
  write_multi_platform(dir_ / "layout", {amd64, arm64});
  std::string name = registry.host() + "/base:multi";
  push(dir_ / "layout", "multi", name, {"--all"});

  skopeo_copy({"--src-tls-verify=false", "--all", "docker://" + name, "oci:" + (dir_ / "all").string() + ":copied"});
  skopeo_copy({"--src-tls-verify=false", "--override-arch", "arm64", "--override-variant", "v8", "docker://" + name,
               "oci:" + (dir_ / "one").string() + ":copied"});
  std::vector<std::string> copies{"oci:" + (dir_ / "all").string() + ":copied", "oci:" + (dir_ / "one").string()};
  for (size_t i = 0; i < copies.size(); ++i) {
    const std::string& copy = copies[i];
    auto from_layout = resolve_base(copy, options(k_arm64), reporter_);
    ASSERT_TRUE(from_layout) << copy << ": " << from_layout.error().message();
    auto from_registry = resolve_base(name, options(k_arm64), reporter_);
    ASSERT_TRUE(from_registry) << from_registry.error().message();
    EXPECT_EQ(from_layout->manifest_digest, from_registry->manifest_digest) << copy;
    EXPECT_EQ(from_layout->config, from_registry->config) << copy;
    EXPECT_EQ(from_layout->layers, from_registry->layers) << copy;
    oci::BlobStore store(dir_ / ("store-" + std::to_string(i)));
    ASSERT_TRUE(fetch_base_layers(*from_layout, store, options(k_arm64), reporter_));
    EXPECT_EQ(base_python_version(*from_layout, store).value_or("error"), "3.11");
  }
}

TEST_F(BaseRegistryTest, UnreachableRegistryIsARemoteError) {
  std::string host;
  {
    RegistryServer gone;  // stopped at the end of this block: nobody listens on its port any more
    host = gone.host();
  }
  BaseOptions unreachable = options();
  unreachable.client.retry.max_attempts = 1;
  std::string name = host + "/base:1";
  auto base = resolve_base(name, unreachable, reporter_);
  ASSERT_FALSE(base);
  EXPECT_EQ(base.error().code(), Errc::remote) << base.error().message();
  EXPECT_TRUE(base.error().message().starts_with("base image '" + name + "': ")) << base.error().message();
}

}  // namespace
}  // namespace mlctl::build
