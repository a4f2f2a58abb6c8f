#include <mlctl/oci/descriptor.hpp>
#include <mlctl/oci/image.hpp>
#include <mlctl/oci/image_config.hpp>
#include <mlctl/oci/manifest.hpp>
#include <mlctl/oci/media_types.hpp>

#include <mlctl/core/digest.hpp>
#include <mlctl/core/fs.hpp>

#include <support/run.hpp>

#include <gtest/gtest.h>

namespace mlctl::oci {
namespace {

const std::string k_digest_a = "sha256:" + std::string(64, 'a');
const std::string k_digest_b = "sha256:" + std::string(64, 'b');

std::string fixture(std::string_view name) {
  auto text = core::read_file(std::filesystem::path(MLCTL_TEST_DATA) / "oci" / name);
  EXPECT_TRUE(text) << name;
  return text.value_or("");
}

Manifest sample_manifest() {
  Manifest manifest;
  manifest.config = {.media_type = std::string(k_oci_config), .digest = k_digest_a, .size = 7};
  manifest.layers.push_back({.media_type = std::string(k_oci_layer_gzip), .digest = k_digest_b, .size = 42});
  manifest.annotations["org.opencontainers.image.source"] = "https://example.com/repo";
  return manifest;
}

TEST(ManifestTest, SerialisesToCanonicalJsonWithSortedKeysAndNoWhitespace) {
  std::string expected =
      R"({"annotations":{"org.opencontainers.image.source":"https://example.com/repo"},)"
      R"("config":{"digest":")" + k_digest_a + R"(","mediaType":"application/vnd.oci.image.config.v1+json","size":7},)"
      R"("layers":[{"digest":")" + k_digest_b + R"(","mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","size":42}],)"
      R"("mediaType":"application/vnd.oci.image.manifest.v1+json","schemaVersion":2})";
  EXPECT_EQ(to_json(sample_manifest()), expected);
}

TEST(ManifestTest, RoundTripsThroughJson) {
  Manifest manifest = sample_manifest();
  manifest.subject = Descriptor{.media_type = std::string(k_oci_manifest), .digest = k_digest_a, .size = 1};
  auto parsed = parse_manifest(to_json(manifest));
  ASSERT_TRUE(parsed) << parsed.error().message();
  EXPECT_EQ(*parsed, manifest);
  EXPECT_EQ(to_json(*parsed), to_json(manifest));
}

TEST(ManifestTest, ParsesDockerSchema2Manifest) {
  auto parsed = parse_manifest(fixture("docker-manifest.json"));
  ASSERT_TRUE(parsed) << parsed.error().message();
  EXPECT_EQ(parsed->media_type, k_docker_manifest);
  EXPECT_EQ(parsed->config.media_type, k_docker_config);
  EXPECT_EQ(parsed->config.size, 1471);
  ASSERT_EQ(parsed->layers.size(), 2u);
  EXPECT_EQ(parsed->layers[0].media_type, k_docker_layer_gzip);
  EXPECT_EQ(parsed->layers[0].size, 29124181);
}

TEST(ManifestTest, IgnoresUnknownFields) {
  std::string json = to_json(sample_manifest());
  json.insert(1, R"("futureField":{"x":[1,2]},)");
  auto parsed = parse_manifest(json);
  ASSERT_TRUE(parsed) << parsed.error().message();
  EXPECT_EQ(*parsed, sample_manifest());
}

TEST(ManifestTest, MissingMediaTypeMeansOci) {
  std::string json = R"({"schemaVersion":2,"config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":")" +
                     k_digest_a + R"(","size":1},"layers":[]})";
  auto parsed = parse_manifest(json);
  ASSERT_TRUE(parsed) << parsed.error().message();
  EXPECT_EQ(parsed->media_type, k_oci_manifest);
}

struct BadManifest {
  std::string json;
  std::string message;
};

TEST(ManifestTest, BadInputNamesTheField) {
  std::string config = R"("config":{"mediaType":"x","digest":")" + k_digest_a + R"(","size":1})";
  std::vector<BadManifest> cases = {
      {R"({"schemaVersion":2,)" + config + R"(,"layers":[{"mediaType":"x","digest":")" + k_digest_b +
           R"(","size":"42"}]})",
       "manifest: layers[0].size: expected an integer"},
      {R"({"schemaVersion":2,)" + config + R"(,"layers":[{"mediaType":"x","size":1}]})",
       "manifest: layers[0].digest: missing"},
      {R"({"schemaVersion":2,)" + config + R"(,"layers":[{"mediaType":"x","digest":"sha256:12","size":1}]})",
       "manifest: layers[0].digest: 'sha256:12' is not a sha256 digest"},
      {R"({"schemaVersion":2,)" + config + R"(,"layers":[{"mediaType":"x","digest":")" + k_digest_b +
           R"(","size":-1}]})",
       "manifest: layers[0].size: must not be negative"},
      {R"({"schemaVersion":1,)" + config + "}", "manifest: schemaVersion: 1 is not supported (only 2)"},
      {R"({"schemaVersion":2,"layers":[]})", "manifest: config: missing"},
      {R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json",)" + config + "}",
       "manifest: mediaType: unexpected 'application/vnd.oci.image.index.v1+json'"},
      {R"({"schemaVersion":2,)" + config + R"(,"annotations":{"a":1}})", "manifest: annotations.a: expected a string"},
      {"[1,2]", "manifest: expected a JSON object"},
  };
  for (const auto& bad : cases) {
    auto parsed = parse_manifest(bad.json);
    ASSERT_FALSE(parsed) << bad.json;
    EXPECT_EQ(parsed.error().code(), Errc::invalid);
    EXPECT_EQ(parsed.error().message(), bad.message);
  }
}

TEST(ManifestTest, TruncatedJsonIsAnErrorNotAnException) {
  std::string json = to_json(sample_manifest());
  for (size_t length : {size_t{0}, size_t{1}, json.size() / 2, json.size() - 1}) {
    auto parsed = parse_manifest(json.substr(0, length));
    ASSERT_FALSE(parsed) << length;
    EXPECT_TRUE(parsed.error().message().starts_with("manifest: not valid JSON: ")) << parsed.error().message();
  }
}

TEST(IndexTest, ParsesDockerManifestListWithPlatforms) {
  auto parsed = parse_index(fixture("docker-manifest-list.json"));
  ASSERT_TRUE(parsed) << parsed.error().message();
  EXPECT_EQ(parsed->media_type, k_docker_manifest_list);
  ASSERT_EQ(parsed->manifests.size(), 2u);
  ASSERT_TRUE(parsed->manifests[1].platform);
  EXPECT_EQ(parsed->manifests[1].platform->architecture, "arm64");
  EXPECT_EQ(parsed->manifests[1].platform->variant, "v8");
}

TEST(IndexTest, RoundTripsThroughJson) {
  Index index;
  index.manifests.push_back({.media_type = std::string(k_oci_manifest),
                             .digest = k_digest_a,
                             .size = 9,
                             .annotations = {{std::string(k_ref_name_annotation), "1.4.0"}},
                             .platform = Platform{.architecture = "amd64", .os = "linux", .os_features = {"x"}}});
  auto parsed = parse_index(to_json(index));
  ASSERT_TRUE(parsed) << parsed.error().message();
  EXPECT_EQ(*parsed, index);
  EXPECT_EQ(to_json(index),
            R"({"manifests":[{"annotations":{"org.opencontainers.image.ref.name":"1.4.0"},"digest":")" + k_digest_a +
                R"(","mediaType":"application/vnd.oci.image.manifest.v1+json","platform":{"architecture":"amd64",)"
                R"("os":"linux","os.features":["x"]},"size":9}],"mediaType":"application/vnd.oci.image.index.v1+json",)"
                R"("schemaVersion":2})");
}

TEST(ImageConfigTest, ParsesDockerConfigWithNullsAndDockerOnlyFields) {
  auto parsed = parse_image_config(fixture("docker-config.json"));
  ASSERT_TRUE(parsed) << parsed.error().message();
  EXPECT_EQ(parsed->architecture, "amd64");
  EXPECT_EQ(parsed->os, "linux");
  EXPECT_EQ(parsed->created, "2024-06-13T02:04:09.123456789Z");
  EXPECT_EQ(parsed->config.env.size(), 3u);
  EXPECT_EQ(parsed->config.cmd, (std::vector<std::string>{"python3"}));
  EXPECT_FALSE(parsed->config.entrypoint) << "null is absent";
  EXPECT_TRUE(parsed->config.labels.empty());
  ASSERT_EQ(parsed->diff_ids.size(), 2u);
  ASSERT_EQ(parsed->history.size(), 2u);
  EXPECT_TRUE(parsed->history[1].empty_layer);
}

TEST(ImageConfigTest, RoundTripsThroughJson) {
  ImageConfig config;
  config.created = "1970-01-01T00:00:00Z";
  config.config.env = {"PATH=/usr/bin", "OMP_NUM_THREADS=1"};
  config.config.entrypoint = std::vector<std::string>{"python", "-m", "src.serve"};
  config.config.cmd = std::vector<std::string>{};
  config.config.exposed_ports = {"8080/tcp"};
  config.config.working_dir = "/app";
  config.config.labels = {{"org.opencontainers.image.version", "1.4.0"}};
  config.diff_ids = {k_digest_a};
  config.history = {{.created = "1970-01-01T00:00:00Z", .created_by = "mlctl build", .comment = "code"}};
  auto parsed = parse_image_config(to_json(config));
  ASSERT_TRUE(parsed) << parsed.error().message();
  EXPECT_EQ(*parsed, config);
  EXPECT_EQ(to_json(config),
            R"({"architecture":"amd64","config":{"Cmd":[],"Entrypoint":["python","-m","src.serve"],)"
            R"("Env":["PATH=/usr/bin","OMP_NUM_THREADS=1"],"ExposedPorts":{"8080/tcp":{}},)"
            R"("Labels":{"org.opencontainers.image.version":"1.4.0"},"WorkingDir":"/app"},)"
            R"("created":"1970-01-01T00:00:00Z","history":[{"comment":"code","created":"1970-01-01T00:00:00Z",)"
            R"("created_by":"mlctl build"}],"os":"linux","rootfs":{"diff_ids":[")" + k_digest_a +
                R"("],"type":"layers"}})");
}

TEST(ImageConfigTest, CreatedFromSourceDateEpochIsUtc) {
  EXPECT_EQ(rfc3339_utc(0), "1970-01-01T00:00:00Z");
  EXPECT_EQ(rfc3339_utc(1700000000), "2023-11-14T22:13:20Z");
  auto date = test::run_command({"date", "-u", "-d", "@1700000000", "+%Y-%m-%dT%H:%M:%SZ"}, ".");
  EXPECT_EQ(date.out, rfc3339_utc(1700000000) + "\n");
}

TEST(ImageConfigTest, RejectsAWrongRootfsType) {
  auto parsed = parse_image_config(R"({"architecture":"amd64","os":"linux","rootfs":{"type":"zfs","diff_ids":[]}})");
  ASSERT_FALSE(parsed);
  EXPECT_EQ(parsed.error().message(), R"(image config: rootfs.type: expected "layers", got "zfs")");
}

TEST(ManifestTest, DeeplyNestedJsonIsAnErrorNotACrash) {
  std::string json = R"({"schemaVersion":2,"annotations":)" + std::string(100000, '[') + std::string(100000, ']') + "}";
  auto parsed = parse_manifest(json);
  ASSERT_FALSE(parsed);
  EXPECT_EQ(parsed.error().code(), Errc::invalid);
}

TEST(ImageTest, AssemblesAnOciManifestPointingAtTheConfig) {
  ImageConfig config;
  config.diff_ids = {k_digest_a};
  auto image = assemble_image(config, {{.media_type = std::string(k_docker_layer_gzip), .digest = k_digest_b, .size = 5}},
                              {{"org.opencontainers.image.revision", "abc"}});
  ASSERT_TRUE(image) << image.error().message();
  EXPECT_EQ(image->config_json, to_json(config));
  EXPECT_EQ(image->manifest.config.digest, core::sha256_digest(image->config_json));
  EXPECT_EQ(image->manifest.config.size, static_cast<std::int64_t>(image->config_json.size()));
  EXPECT_EQ(image->manifest.config.media_type, k_oci_config);
  EXPECT_EQ(image->manifest.layers[0].media_type, k_oci_layer_gzip) << "a Docker base layer is named the OCI way";
  EXPECT_EQ(image->manifest_json, to_json(image->manifest));
  Descriptor descriptor = image->descriptor();
  EXPECT_EQ(descriptor.digest, core::sha256_digest(image->manifest_json));
  EXPECT_EQ(descriptor.platform, (Platform{.architecture = "amd64", .os = "linux"}));
}

TEST(ImageTest, DiffIdsMustMatchTheLayers) {
  ImageConfig config;
  auto image = assemble_image(config, {{.media_type = std::string(k_oci_layer), .digest = k_digest_b, .size = 5}});
  ASSERT_FALSE(image);
  EXPECT_EQ(image.error().message(), "the config lists 0 diff_ids for 1 layers");
  config.diff_ids = {k_digest_a};
  auto not_layer = assemble_image(config, {{.media_type = std::string(k_oci_config), .digest = k_digest_b, .size = 5}});
  ASSERT_FALSE(not_layer);
  EXPECT_EQ(not_layer.error().code(), Errc::invalid);
}

TEST(DescriptorTest, ParsesArtifactTypeAndUrls) {
  auto parsed = parse_descriptor(R"({"mediaType":"application/octet-stream","digest":")" + k_digest_a +
                                 R"(","size":3,"artifactType":"application/x-model","urls":["https://x/y"]})");
  ASSERT_TRUE(parsed) << parsed.error().message();
  EXPECT_EQ(parsed->artifact_type, "application/x-model");
  EXPECT_EQ(parsed->urls, (std::vector<std::string>{"https://x/y"}));
  EXPECT_EQ(to_json(*parsed), R"({"artifactType":"application/x-model","digest":")" + k_digest_a +
                                  R"(","mediaType":"application/octet-stream","size":3,"urls":["https://x/y"]})");
}

}  // namespace
}  // namespace mlctl::oci
