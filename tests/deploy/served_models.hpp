#pragma once

#include <mlctl/deploy/istio.hpp>
#include <mlctl/deploy/k8s.hpp>

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include <support/run.hpp>

#include <gtest/gtest.h>

// What the deploy tests render: versions of one model in prod, and a lookup in what came out.
namespace mlctl::deploy::test {

// fraud-detector version `version` of project fraud in prod (ml-prod), its artifact and image
// digests `digest` repeated 64 times, a pickled sklearn model in S3, default resources and autoscaling.
inline ServedModel fraud_detector(std::int64_t version, char digest) {
  return {.project = "fraud",
          .model = "fraud-detector",
          .version = version,
          .artifact_digest = "sha256:" + std::string(64, digest),
          .artifact_uri = "s3://models/fraud-detector/" + std::to_string(version) + "/model.pkl",
          .artifact_directory = false,
          .flavor = "sklearn",
          .image = "registry.example/fraud/server@sha256:" + std::string(64, digest),
          .environment = "prod",
          .namespace_name = "ml-prod",
          .resources = {},
          .autoscaling = {},
          .packaging = Packaging::image,
          .tool_image = {}};
}

// fraud-detector 3 stable and 4 the candidate at 10%, no route header.
inline TrafficSplit ninety_ten() {
  return {.stable = fraud_detector(3, 'a'),
          .candidate = fraud_detector(4, 'b'),
          .weight = 10,
          .mode = SplitMode::ab,
          .route_header = {}};
}

// tests/support/validate_schemas.py on `files` (YAML streams): exit 0 and no output when every
// object validates against its upstream schema.
inline core::Completed validate_schemas(const std::vector<std::string>& files, const std::filesystem::path& cwd) {
  std::vector<std::string> argv{"/usr/bin/python3", MLCTL_SOURCE_DIR "/tests/support/validate_schemas.py",
                                MLCTL_TEST_DATA "/schemas"};
  argv.insert(argv.end(), files.begin(), files.end());
  return mlctl::test::run_command(argv, cwd);
}

// The first object of `kind` (a test failure when there is none).
inline const nlohmann::json& find(const std::vector<nlohmann::json>& objects, std::string_view kind) {
  for (const auto& object : objects)
    if (object["kind"] == kind) return object;
  static const nlohmann::json none;
  ADD_FAILURE() << "no " << kind;
  return none;
}

}  // namespace mlctl::deploy::test
