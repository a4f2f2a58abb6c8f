// Rendered objects against the upstream Kubernetes schemas (strict: unknown fields are refused),
// read back from the YAML mlctl writes by PyYAML.
#include <mlctl/deploy/k8s.hpp>

#include <support/run.hpp>
#include <support/temp_dir.hpp>

#include <gtest/gtest.h>

namespace mlctl::deploy {
namespace {

TEST(K8sSchemaTest, EveryRenderedObjectValidatesAgainstTheUpstreamSchema) {
  mlctl::test::TempDir dir;
  std::vector<std::string> files;
  for (int gpu : {0, 2}) {
    ServedModel model{.project = "fraud",
                      .model = "fraud-detector",
                      .version = 12,
                      .artifact_digest = "sha256:" + std::string(64, 'c'),
                      .image = "127.0.0.1:5000/fraud/server:0.1.0@sha256:" + std::string(64, 'd'),
                      .environment = "dev",
                      .namespace_name = "ml-dev",
                      .resources = {.cpu = "250m", .memory = "512Mi", .gpu = gpu},
                      .autoscaling = {}};
    auto objects = render_direct(model);
    ASSERT_TRUE(objects) << objects.error().message();
    files.push_back(dir.write("gpu-" + std::to_string(gpu) + ".yaml", manifest_yaml(*objects)).string());
  }
  std::vector<std::string> argv{"/usr/bin/python3", MLCTL_SOURCE_DIR "/tests/deploy/validate_k8s.py",
                                MLCTL_TEST_DATA "/schemas/kubernetes"};
  argv.insert(argv.end(), files.begin(), files.end());
  auto checked = mlctl::test::run_command(argv, dir.path());
  EXPECT_EQ(checked.exit_code, 0) << checked.out << checked.err;
  EXPECT_EQ(checked.out, "");

  // The validator is not blind: an unknown field is refused.
  dir.write("bad.yaml", "apiVersion: v1\nkind: Service\nmetadata: {name: x}\nspec: {portz: []}\n");
  auto bad = mlctl::test::run_command({argv[0], argv[1], argv[2], (dir / "bad.yaml").string()}, dir.path());
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.out.find("'portz' was unexpected"), std::string::npos) << bad.out;
}

}  // namespace
}  // namespace mlctl::deploy
