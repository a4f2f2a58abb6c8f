// `mlctl model fetch`: what a serving pod's init container runs, with no registry database,
// against a real local store (see model_fetch_oci_test.cpp for an oci:// store).
#include "artifacts/tree.hpp"
#include "model_test_support.hpp"

#include <nlohmann/json.hpp>

namespace mlctl::test {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

using ModelFetchTest = ModelFetch;

TEST_F(ModelFetchTest, AFileArtifactIsFetchedByItsUriAndVerified) {
  dir_.write("model.pkl", "pickled weights");
  json version = registered("model.pkl");
  std::string uri = version["artifact_uri"], digest = version["artifact_digest"];
  ASSERT_TRUE(uri.starts_with("file://")) << uri;
  auto fetched = fetch({uri, "--digest", digest, "--size", version["artifact_size"].dump(), "model"});
  ASSERT_EQ(fetched.exit_code, 0) << fetched.err;
  EXPECT_EQ(fetched.out, "fetched " + uri + " (" + digest + ") to model\n");
  EXPECT_EQ(pod_.read("model"), "pickled weights");
  EXPECT_EQ(list_folder(pod_.path()), std::vector<std::string>{"model"});

  auto as_json = fetch({uri, "--digest", digest, "again", "-o", "json"});
  ASSERT_EQ(as_json.exit_code, 0) << as_json.err;
  EXPECT_EQ(json::parse(as_json.out),
            (json{{"artifact_uri", uri}, {"artifact_digest", digest}, {"destination", "again"}}));
}

TEST_F(ModelFetchTest, ADirectoryArtifactIsFetchedAsTheSameTree) {
  make_model_tree(dir_ / "model");
  json version = registered("model");
  ASSERT_EQ(version["artifact_directory"], true);
  fs::create_directory(pod_ / "models");
  auto fetched =
      fetch({version["artifact_uri"], "--digest", version["artifact_digest"], "--directory", "models/model"});
  ASSERT_EQ(fetched.exit_code, 0) << fetched.err;
  EXPECT_EQ(describe_tree(pod_ / "models" / "model"), describe_tree(dir_ / "model"));
  EXPECT_EQ(list_folder(pod_ / "models"), std::vector<std::string>{"model"});
}

TEST_F(ModelFetchTest, AWrongDigestFailsAndLeavesNothing) {
  dir_.write("model.pkl", "pickled weights");
  make_model_tree(dir_ / "tree");
  for (const json& version : {registered("model.pkl"), registered("tree")}) {
    std::vector<std::string> args{version["artifact_uri"], "--digest", "sha256:" + std::string(64, '0'), "model"};
    if (version["artifact_directory"] == true) args.push_back("--directory");
    auto refused = fetch(args);
    EXPECT_EQ(refused.exit_code, 1) << refused.err;
    EXPECT_NE(refused.err.find("digest mismatch: expected sha256:" + std::string(64, '0') + ", got " +
                               version["artifact_digest"].get<std::string>()),
              std::string::npos)
        << refused.err;
    EXPECT_EQ(refused.out, "");
    EXPECT_EQ(list_folder(pod_.path()), std::vector<std::string>{}) << version["artifact_uri"];
  }
}

TEST_F(ModelFetchTest, BadArgumentsAreRefusedAndAnExistingDestinationKept) {
  dir_.write("model.pkl", "pickled weights");
  json version = registered("model.pkl");
  std::string uri = version["artifact_uri"], digest = version["artifact_digest"];
  pod_.write("model", "already here");
  struct Case {
    std::vector<std::string> args;
    int exit_code;
    std::string error;
  };
  std::vector<Case> cases{
      {{uri, "--digest", digest, "model"}, 4, "model: already exists"},
      {{uri, "--digest", "sha256:abc", "other"}, 2, "mlctl: error: --digest: 'sha256:abc' is not a sha256 digest\n"},
      {{(dir_ / "model.pkl").string(), "--digest", digest, "other"}, 2,
       "mlctl: error: '" + (dir_ / "model.pkl").string() + "' is not an artifact URI\nhint: give a URI as `mlctl "
       "model uri` prints it: file://, s3:// or oci://\n"},
      {{"gs://bucket/model.pkl", "--digest", digest, "other"}, 2, "is not an artifact URI"},
      {{uri, "other"}, 2, "--digest is required"},
  };
  for (const auto& c : cases) {
    auto refused = fetch(c.args);
    EXPECT_EQ(refused.exit_code, c.exit_code) << c.args[0] << ": " << refused.err;
    EXPECT_NE(refused.err.find(c.error), std::string::npos) << refused.err;
    EXPECT_EQ(refused.out, "");
  }
  EXPECT_EQ(pod_.read("model"), "already here");
  EXPECT_EQ(list_folder(pod_.path()), std::vector<std::string>{"model"});
}

}  // namespace
}  // namespace mlctl::test
