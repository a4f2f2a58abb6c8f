// `mlctl model fetch` from an oci:// store in the real Debian docker-registry: what a serving
// pod's init container runs for a model registered to a registry.
#include "artifacts/tree.hpp"
#include "model_test_support.hpp"
#include "registry_fixture.hpp"

#include <nlohmann/json.hpp>

namespace mlctl::test {
namespace {

using nlohmann::json;

class ModelFetchOciTest : public ModelFetch {
protected:
  json registered(const std::string& path) {
    return ModelFetch::registered(path, "oci://" + registry_.host() + "/ml/fraud-model");
  }

  RegistryServer registry_;
};

TEST_F(ModelFetchOciTest, FileAndDirectoryArtifactsAreFetchedFromTheRegistryAndVerified) {
  dir_.write("model.pkl", "pickled weights");
  make_model_tree(dir_ / "tree");
  json file = registered("model.pkl"), tree = registered("tree");
  std::string prefix = "oci://" + registry_.host() + "/ml/fraud-model@sha256:";
  ASSERT_TRUE(file["artifact_uri"].get<std::string>().starts_with(prefix)) << file["artifact_uri"];

  auto fetched = fetch({file["artifact_uri"], "--digest", file["artifact_digest"], "model.pkl"});
  ASSERT_EQ(fetched.exit_code, 0) << fetched.err << registry_.log();
  EXPECT_EQ(pod_.read("model.pkl"), "pickled weights");
  fetched = fetch({tree["artifact_uri"], "--digest", tree["artifact_digest"], "--directory", "tree"});
  ASSERT_EQ(fetched.exit_code, 0) << fetched.err << registry_.log();
  EXPECT_EQ(describe_tree(pod_ / "tree"), describe_tree(dir_ / "tree"));
  EXPECT_EQ(list_folder(pod_.path()), (std::vector<std::string>{"model.pkl", "tree"}));
}

TEST_F(ModelFetchOciTest, AWrongDigestFailsAndLeavesNothing) {
  dir_.write("model.pkl", "pickled weights");
  json file = registered("model.pkl");
  // Another artifact's digest: the manifest the URI pins is not that artifact's.
  auto refused = fetch({file["artifact_uri"], "--digest", "sha256:" + std::string(64, '0'), "model.pkl"});
  EXPECT_EQ(refused.exit_code, 1) << refused.err;
  EXPECT_NE(refused.err.find("the manifest is not the one of artifact sha256:" + std::string(64, '0')),
            std::string::npos)
      << refused.err;
  // A URI whose manifest digest was changed: the registry has no such manifest.
  std::string uri = file["artifact_uri"];
  uri.back() = uri.back() == '0' ? '1' : '0';
  auto missing = fetch({uri, "--digest", file["artifact_digest"], "model.pkl"});
  EXPECT_EQ(missing.exit_code, 3) << missing.err;
  EXPECT_NE(missing.err.find("404 MANIFEST_UNKNOWN"), std::string::npos) << missing.err;
  EXPECT_EQ(list_folder(pod_.path()), std::vector<std::string>{});
}

TEST_F(ModelFetchOciTest, PullByNameReadsTheArtifactFromTheRepositoryItsUriNames) {
  dir_.write("model.pkl", "pickled weights");
  json file = registered("model.pkl");
  // The local store is configured; the artifact's oci:// URI names where it really is.
  auto pulled = mlctl({"pull", "fraud@" + file["version"].dump(), (dir_ / "pulled.pkl").string()});
  ASSERT_EQ(pulled.exit_code, 0) << pulled.err << registry_.log();
  EXPECT_EQ(dir_.read("pulled.pkl"), "pickled weights");
}

}  // namespace
}  // namespace mlctl::test
