#pragma once

#include "context.hpp"

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

// What `mlctl build` and `mlctl release` share: building and pushing the project's image.
namespace mlctl::cli {

// Every flag of `mlctl build`.
struct BuildFlags {
  bool push = false;
  std::vector<std::string> tags;
  std::vector<std::string> outputs;
  std::string platform;
  std::string digest_file;
  std::string compression = "auto";
  bool print_dockerfile = false;
  std::string builder = "auto";
  bool insecure = false;
  bool serve = false;
  std::string model;  // NAME[@VERSION|@ALIAS]
  std::string registry_db;
};

struct BuiltProject {
  nlohmann::json document;              // what `mlctl build -o json` prints
  std::vector<std::string> references;  // REGISTRY/REPOSITORY:TAG@DIGEST, one per tag
  std::string digest;                   // the image manifest's
};

// Builds the project's image as `flags` ask (pushed with flags.push), reporting progress; Fatal on
// failure. flags.print_dockerfile is not looked at.
BuiltProject build_project(Context& context, const BuildFlags& flags);

}  // namespace mlctl::cli
