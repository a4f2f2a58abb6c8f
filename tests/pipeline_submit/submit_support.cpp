#include "submit_support.hpp"

#include <mlctl/pipeline/compile/argo.hpp>
#include <mlctl/pipeline/compile/kfp.hpp>
#include <mlctl/core/yaml_out.hpp>
#include <mlctl/pipeline/load.hpp>

#include <gtest/gtest.h>

#include <filesystem>

namespace mlctl::pipeline::submit_test {

namespace {

Pipeline train_pipeline() {
  auto loaded = load_pipeline(std::filesystem::path(MLCTL_TEST_DATA) / "pipelines/train/pipeline.yaml");
  EXPECT_TRUE(loaded) << loaded.error().message();
  return loaded.value_or(Pipeline{});
}

CompileOptions options() {
  CompileOptions options;
  options.self_image =
      "registry.example.com/ml/train@sha256:1111111111111111111111111111111111111111111111111111111111111111";
  options.tool_image = "ghcr.io/mlctl/mlctl@sha256:2222222222222222222222222222222222222222222222222222222222222222";
  options.tool_version = "0.1.0";
  options.pipeline_version = "1.4.0";
  options.git_commit = "0123456789abcdef0123456789abcdef01234567";
  return options;
}

}  // namespace

oci::remote::Transport& transport() {
  static oci::remote::CurlTransport transport([] {
    oci::remote::CurlOptions options;
    options.connect_timeout = std::chrono::seconds(5);
    options.low_speed_limit = 1;
    options.low_speed_time = std::chrono::seconds(1);
    return options;
  }());
  return transport;
}

ApiClient client(std::string_view url, std::string_view token, std::vector<milliseconds>& sleeps) {
  ApiOptions options;
  options.sleep = [&sleeps](milliseconds delay) { sleeps.push_back(delay); };
  auto made = ApiClient::create(url, transport(), std::string(token), std::move(options));
  EXPECT_TRUE(made) << made.error().message();
  return std::move(made).value();
}

nlohmann::json train_argo(ArgoKind kind) {
  CompileOptions compile = options();
  compile.kind = kind;
  auto document = compile_argo(train_pipeline(), compile);
  EXPECT_TRUE(document) << document.error().message();
  return document.value_or(nlohmann::json());
}

std::string train_kfp_yaml() {
  auto document = compile_kfp(train_pipeline(), options());
  EXPECT_TRUE(document) << document.error().message();
  return core::to_yaml(document.value_or(nlohmann::json::object()));
}

}  // namespace mlctl::pipeline::submit_test
