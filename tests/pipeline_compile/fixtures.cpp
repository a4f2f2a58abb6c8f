#include "fixtures.hpp"

#include <mlctl/core/fs.hpp>
#include <mlctl/pipeline/load.hpp>

#include <gtest/gtest.h>

namespace mlctl::pipeline::fixtures {

namespace fs = std::filesystem;

Pipeline parse(std::string_view text) {
  PipelineCheck checked = check_pipeline(text, "pipeline.yaml", fs::path(MLCTL_TEST_DATA) / "kfp-components");
  EXPECT_TRUE(checked.problems.empty()) << checked.problems.front().to_string();
  return checked.pipeline.value_or(Pipeline{});
}

Pipeline train_pipeline() {
  auto loaded = load_pipeline(fs::path(MLCTL_TEST_DATA) / "pipelines/train/pipeline.yaml");
  EXPECT_TRUE(loaded) << loaded.error().message();
  return loaded.value_or(Pipeline{});
}

CompileOptions full_options() {
  CompileOptions options;
  options.self_image = k_project_image;
  options.tool_image = k_tool_image;
  options.tool_version = "0.1.0";
  options.pipeline_version = "1.4.0";
  options.git_commit = k_commit;
  return options;
}

std::string golden(std::string_view name) {
  auto text = core::read_file(fs::path(MLCTL_SOURCE_DIR) / "tests/pipeline_compile/golden" / name);
  EXPECT_TRUE(text) << text.error().message();
  return text.value_or("");
}

}  // namespace mlctl::pipeline::fixtures
