// The OCI layout and docker-archive writers, checked by the real clients that read them
// (umoci, skopeo, podman, GNU tar) and by the OCI JSON schemas.
#include <mlctl/oci/docker_archive.hpp>
#include <mlctl/oci/layer.hpp>
#include <mlctl/oci/layout.hpp>

#include <mlctl/core/digest.hpp>
#include <mlctl/core/fs.hpp>

#include <support/run.hpp>
#include <support/temp_dir.hpp>

#include <nlohmann/json.hpp>

#include <unistd.h>

#include <gtest/gtest.h>

namespace mlctl::oci {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

const std::string k_hello = "hello from mlctl\n";

class WritersTest : public ::testing::Test {
protected:
  void SetUp() override { image_ = sample_image(CompressionMode::gzip); }

  // One layer with app/hello.txt, and a config a serving image would have.
  Image sample_image(CompressionMode compression) {
    auto layer = build_layer({{.path = "app/hello.txt", .content = k_hello}},
                             {.compression = compression, .epoch = 1700000000}, cache_);
    EXPECT_TRUE(layer) << layer.error().message();
    layer_ = layer.value_or(Layer{});
    ImageConfig config;
    config.created = "2023-11-14T22:13:20Z";
    config.config.env = {"PATH=/usr/local/bin:/usr/bin:/bin", "OMP_NUM_THREADS=1"};
    config.config.entrypoint = std::vector<std::string>{"python3", "-m", "src.serve"};
    config.config.working_dir = "/app";
    config.config.exposed_ports = {"8080/tcp"};
    config.config.labels = {{"org.opencontainers.image.version", "1.4.0"}};
    config.diff_ids = {layer_.diff_id};
    config.history = {{.created = config.created, .created_by = "mlctl build", .comment = "code"}};
    auto image = assemble_image(config, {layer_.descriptor});
    EXPECT_TRUE(image) << image.error().message();
    return image.value_or(Image{});
  }

  fs::path blob(const fs::path& layout, std::string_view digest) {
    return layout / "blobs/sha256" / std::string(digest.substr(7));
  }

  void expect_valid(std::string_view kind, const fs::path& file) {
    auto checked = test::run_command({"/usr/bin/python3", MLCTL_SOURCE_DIR "/tests/oci/validate_schema.py",
                                      MLCTL_TEST_DATA "/schemas/oci", std::string(kind), file.string()},
                                     dir_.path());
    EXPECT_EQ(checked.exit_code, 0) << kind << " " << file << ": " << checked.out << checked.err;
  }

  Json run_json(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env = {}) {
    auto done = test::run_command(argv, dir_.path(), env);
    EXPECT_EQ(done.exit_code, 0) << argv.front() << ": " << done.err;
    return Json::parse(done.out, nullptr, false);
  }

  test::TempDir dir_;
  BlobStore cache_{dir_ / "cache"};
  Layer layer_;
  Image image_;
};

TEST_F(WritersTest, LayoutDocumentsValidateAgainstTheOciSchemas) {
  fs::path layout = dir_ / "layout";
  auto written = write_layout(layout, image_, cache_, "1.4.0");
  ASSERT_TRUE(written) << written.error().message();
  expect_valid("layout", layout / "oci-layout");
  expect_valid("index", layout / "index.json");
  expect_valid("manifest", blob(layout, written->digest));
  expect_valid("config", blob(layout, image_.manifest.config.digest));
  EXPECT_EQ(core::sha256_digest(*core::read_file(blob(layout, written->digest))), written->digest);
  std::vector<std::string> top;
  for (const auto& entry : fs::directory_iterator(layout)) top.push_back(entry.path().filename().string());
  std::sort(top.begin(), top.end());
  EXPECT_EQ(top, (std::vector<std::string>{"blobs", "index.json", "oci-layout"})) << "no temporary file is left";
  EXPECT_EQ(dir_.read("layout/oci-layout"), R"({"imageLayoutVersion":"1.0.0"})");
}

TEST_F(WritersTest, SchemaValidationCatchesABrokenManifest) {
  // The validator itself must fail on a bad document, or the test above proves nothing.
  Json manifest = Json::parse(image_.manifest_json);
  manifest["layers"] = Json::array();
  manifest["config"]["size"] = "7";
  dir_.write("bad.json", manifest.dump());
  auto checked = test::run_command({"/usr/bin/python3", MLCTL_SOURCE_DIR "/tests/oci/validate_schema.py",
                                    MLCTL_TEST_DATA "/schemas/oci", "manifest", (dir_ / "bad.json").string()},
                                   dir_.path());
  EXPECT_EQ(checked.exit_code, 1);
  EXPECT_NE(checked.out.find("config/size: '7' is not of type 'integer'"), std::string::npos) << checked.out;
  EXPECT_NE(checked.out.find("layers: [] is too short"), std::string::npos) << checked.out;
}

TEST_F(WritersTest, UmociUnpacksTheLayout) {
  fs::path layout = dir_ / "layout";
  ASSERT_TRUE(write_layout(layout, image_, cache_, "1.4.0"));
  auto unpacked = test::run_command({"umoci", "unpack", "--rootless", "--image", layout.string() + ":1.4.0",
                                     (dir_ / "bundle").string()},
                                    dir_.path());
  ASSERT_EQ(unpacked.exit_code, 0) << unpacked.err;
  EXPECT_EQ(dir_.read("bundle/rootfs/app/hello.txt"), k_hello);
  Json runtime = Json::parse(dir_.read("bundle/config.json"));
  EXPECT_EQ(runtime["process"]["args"], (Json{"python3", "-m", "src.serve"}));
  EXPECT_EQ(runtime["process"]["cwd"], "/app");
  EXPECT_NE(std::ranges::find(runtime["process"]["env"], "OMP_NUM_THREADS=1"), runtime["process"]["env"].end());
}

TEST_F(WritersTest, SkopeoInspectsTheLayoutConfigAndManifest) {
  fs::path layout = dir_ / "layout";
  auto written = write_layout(layout, image_, cache_, "1.4.0");
  ASSERT_TRUE(written);
  std::string ref = "oci:" + layout.string() + ":1.4.0";
  Json inspected = run_json({"skopeo", "inspect", ref});
  EXPECT_EQ(inspected["Digest"], written->digest);
  EXPECT_EQ(inspected["Architecture"], "amd64");
  EXPECT_EQ(inspected["Os"], "linux");
  EXPECT_EQ(inspected["Labels"], (Json{{"org.opencontainers.image.version", "1.4.0"}}));
  EXPECT_EQ(inspected["Layers"], (Json{layer_.descriptor.digest}));
  auto raw = test::run_command({"skopeo", "inspect", "--raw", ref}, dir_.path());
  EXPECT_EQ(raw.out, image_.manifest_json);
  auto config = test::run_command({"skopeo", "inspect", "--config", "--raw", ref}, dir_.path());
  EXPECT_EQ(config.out, image_.config_json);
}

TEST_F(WritersTest, LayoutKeepsOtherTagsAndMovesTheSameTag) {
  fs::path layout = dir_ / "layout";
  ASSERT_TRUE(write_layout(layout, image_, cache_, "1.4.0"));
  Image other = sample_image(CompressionMode::none);
  auto latest = write_layout(layout, other, cache_, "latest");
  auto moved = write_layout(layout, other, cache_, "1.4.0");
  ASSERT_TRUE(latest && moved);
  auto index = parse_index(dir_.read("layout/index.json"));
  ASSERT_TRUE(index) << index.error().message();
  ASSERT_EQ(index->manifests.size(), 2u);
  EXPECT_EQ(index->manifests[0].annotations.at(std::string(k_ref_name_annotation)), "latest");
  EXPECT_EQ(index->manifests[1].annotations.at(std::string(k_ref_name_annotation)), "1.4.0");
  EXPECT_EQ(index->manifests[1].digest, other.descriptor().digest);
  Json inspected = run_json({"skopeo", "inspect", "oci:" + layout.string() + ":1.4.0"});
  EXPECT_EQ(inspected["Digest"], other.descriptor().digest);
}

TEST_F(WritersTest, MissingLayerBlobLeavesNoIndex) {
  BlobStore empty(dir_ / "empty");
  fs::path layout = dir_ / "layout";
  auto written = write_layout(layout, image_, empty, "1.4.0");
  ASSERT_FALSE(written);
  EXPECT_EQ(written.error().code(), Errc::not_found);
  EXPECT_FALSE(fs::exists(layout / "index.json"));
}

TEST_F(WritersTest, LayoutRefusesAnInvalidTag) {
  for (std::string tag : {std::string(""), std::string("-x"), std::string("a b"), std::string("x/"), std::string("a..b")}) {
    auto written = write_layout(dir_ / "layout", image_, cache_, tag);
    ASSERT_FALSE(written) << tag;
    EXPECT_EQ(written.error().code(), Errc::invalid) << tag;
  }
  EXPECT_TRUE(check_ref_name("registry.example.com/ml/fraud-detector:1.4.0"));
  EXPECT_TRUE(check_ref_name("v1--rc_2"));
}

TEST_F(WritersTest, SameInputsGiveTheSameManifestDigest) {
  Image again = sample_image(CompressionMode::gzip);
  EXPECT_EQ(again.manifest_json, image_.manifest_json);
  EXPECT_EQ(again.descriptor(), image_.descriptor());
}

TEST_F(WritersTest, DockerArchiveIsDeterministicAndLaidOutAsDockerSaves) {
  std::vector<std::string> tags{"fraud-detector:1.4.0"};
  ASSERT_TRUE(write_docker_archive(dir_ / "one.tar", image_, cache_, tags));
  ASSERT_TRUE(write_docker_archive(dir_ / "two.tar", image_, cache_, tags));
  EXPECT_TRUE(dir_.read("one.tar") == dir_.read("two.tar"));
  std::string config = "blobs/sha256/" + image_.manifest.config.digest.substr(7);
  std::string layer = "blobs/sha256/" + layer_.descriptor.digest.substr(7);
  auto listed = test::run_command({"tar", "-tf", "one.tar"}, dir_.path());
  std::vector<std::string> expected{"blobs/", "blobs/sha256/", config, layer, "manifest.json"};
  std::sort(expected.begin() + 2, expected.begin() + 4);
  std::string lines;
  for (const auto& line : expected) lines += line + "\n";
  EXPECT_EQ(listed.out, lines);
  auto manifest = test::run_command({"tar", "-xOf", "one.tar", "manifest.json"}, dir_.path());
  EXPECT_EQ(manifest.out, R"([{"Config":")" + config + R"(","Layers":[")" + layer +
                              R"("],"RepoTags":["fraud-detector:1.4.0"]}])");
}

TEST_F(WritersTest, SkopeoInspectsTheDockerArchive) {
  ASSERT_TRUE(write_docker_archive(dir_ / "image.tar", image_, cache_, {"fraud-detector:1.4.0"}));
  Json inspected = run_json({"skopeo", "inspect", "docker-archive:" + (dir_ / "image.tar").string()});
  EXPECT_EQ(inspected["Labels"], (Json{{"org.opencontainers.image.version", "1.4.0"}}));
  EXPECT_EQ(inspected["Architecture"], "amd64");
  ASSERT_EQ(inspected["Layers"].size(), 1u);
  Json config = run_json({"skopeo", "inspect", "--config", "docker-archive:" + (dir_ / "image.tar").string()});
  EXPECT_EQ(config["rootfs"]["diff_ids"], (Json{layer_.diff_id}));
}

TEST_F(WritersTest, PodmanLoadsTheDockerArchive) {
  ASSERT_TRUE(write_docker_archive(dir_ / "image.tar", image_, cache_, {"localhost/fraud-detector:1.4.0"}));
  std::vector<std::string> podman{"podman", "--root", (dir_ / "storage").string(), "--runroot",
                                  (dir_ / "run").string(), "--storage-driver", "vfs"};
  std::map<std::string, std::string> env{{"CONTAINERS_CONF", MLCTL_TEST_DATA "/containers.conf"}};
  auto load = podman;
  load.insert(load.end(), {"load", "-i", (dir_ / "image.tar").string()});
  auto loaded = test::run_command(load, dir_.path(), env);
  ASSERT_EQ(loaded.exit_code, 0) << loaded.out << loaded.err;
  auto inspect = podman;
  inspect.insert(inspect.end(), {"image", "inspect", "localhost/fraud-detector:1.4.0"});
  Json inspected = run_json(inspect, env);
  ASSERT_TRUE(inspected.is_array() && inspected.size() == 1) << inspected.dump();
  EXPECT_EQ(inspected[0]["Config"]["Labels"], (Json{{"org.opencontainers.image.version", "1.4.0"}}));
  EXPECT_EQ(inspected[0]["RootFS"]["Layers"], (Json{layer_.diff_id}));
}

// An image that runs: a static busybox as /bin/sh, and the entrypoint prints what the image set.
Result<Image> runnable_image(const BlobStore& store) {
  std::vector<TarEntry> entries{{.path = "bin/busybox", .source = "/bin/busybox", .executable = true},
                                {.path = "bin/sh", .kind = TarEntry::Kind::symlink, .link_target = "busybox"},
                                {.path = "app/hello.txt", .content = k_hello}};
  auto layer = build_layer(entries, {.compression = CompressionMode::gzip}, store);
  if (!layer) return std::unexpected(layer.error());
  ImageConfig config;
  config.config.env = {"PATH=/bin", "OMP_NUM_THREADS=1"};
  config.config.entrypoint = std::vector<std::string>{"/bin/sh", "-c", "cat hello.txt; echo $OMP_NUM_THREADS; pwd"};
  config.config.working_dir = "/app";
  config.diff_ids = {layer->diff_id};
  return assemble_image(config, {layer->descriptor});
}

TEST_F(WritersTest, PodmanRunsTheImageFromBothFormats) {
  auto built = runnable_image(cache_);
  ASSERT_TRUE(built) << built.error().message();
  const Image& image = *built;
  ASSERT_TRUE(write_docker_archive(dir_ / "image.tar", image, cache_, {"localhost/runnable:1"}));
  ASSERT_TRUE(write_layout(dir_ / "layout", image, cache_, "1"));
  std::vector<std::string> podman{"podman", "--root", (dir_ / "storage").string(), "--runroot",
                                  (dir_ / "run").string(), "--storage-driver", "vfs"};
  std::map<std::string, std::string> env{{"CONTAINERS_CONF", MLCTL_TEST_DATA "/containers.conf"}};
  // podman names an image run from a layout after its path, which must then be lowercase.
  fs::path lowercase = fs::temp_directory_path() / ("mlctl-oci-layout-" + std::to_string(::getpid()));
  fs::remove(lowercase);
  fs::create_directory_symlink(dir_ / "layout", lowercase);
  for (std::string ref : {"docker-archive:" + (dir_ / "image.tar").string(), "oci:" + lowercase.string() + ":1"}) {
    auto run = podman;
    run.insert(run.end(), {"run", "--rm", "--network", "none", ref});
    auto ran = test::run_command(run, dir_.path(), env);
    EXPECT_EQ(ran.exit_code, 0) << ref << ": " << ran.err;
    EXPECT_EQ(ran.out, k_hello + "1\n/app\n") << ref;
  }
  fs::remove(lowercase);
}

TEST_F(WritersTest, DockerArchiveRefusesZstdLayersAndBadTagsWritingNothing) {
  Image zstd = sample_image(CompressionMode::zstd);
  auto written = write_docker_archive(dir_ / "image.tar", zstd, cache_, {"x:1"});
  ASSERT_FALSE(written);
  EXPECT_EQ(written.error().code(), Errc::invalid);
  EXPECT_FALSE(fs::exists(dir_ / "image.tar"));
  auto bad_tag = write_docker_archive(dir_ / "image.tar", image_, cache_, {"Not A Tag"});
  ASSERT_FALSE(bad_tag);
  EXPECT_EQ(bad_tag.error().code(), Errc::invalid);
  EXPECT_EQ(std::distance(fs::directory_iterator(dir_.path()), fs::directory_iterator()), 1) << "only the cache";
}

}  // namespace
}  // namespace mlctl::oci
