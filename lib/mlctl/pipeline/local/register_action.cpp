#include <mlctl/pipeline/local/register_action.hpp>

#include <mlctl/core/digest.hpp>
#include <mlctl/core/fs.hpp>
#include <mlctl/core/reporter.hpp>
#include <mlctl/models/artifact_store.hpp>
#include <mlctl/models/filter.hpp>
#include <mlctl/models/lineage.hpp>

#include <fmt/format.h>

namespace mlctl::pipeline {

namespace {

Result<nlohmann::json> read_metrics(const std::string& path) {
  auto text = core::read_file(path);
  if (!text) return std::unexpected(text.error());
  auto document = nlohmann::json::parse(*text, nullptr, false);
  if (!document.is_object()) return fail(Errc::invalid, fmt::format("metrics {}: expected a JSON object of numbers", path));
  for (const auto& [key, value] : document.items()) {
    if (!value.is_number() || !models::check_key(key))
      return fail(Errc::invalid, fmt::format("metrics {}: '{}' is not a named number", path, key));
  }
  return document;
}

Result<models::NewVersion> new_version(const RegisterRequest& request, const RegistryLocation& location) {
  models::NewVersion version{.name = request.model.empty() ? location.model : request.model,
                             .flavor = location.flavor,
                             .params = request.params,
                             .tags = {{"pipeline", request.pipeline}}};
  if (version.name.empty())
    return fail(Errc::precondition, "no model to register",
                "name it in the step (`with: {model: NAME}`) or in mlctl.yaml (`model.name`)");
  if (auto checked = models::check_model_name(version.name); !checked) return std::unexpected(checked.error());
  if (!request.metrics.empty()) {
    auto metrics = read_metrics(request.metrics);
    if (!metrics) return std::unexpected(metrics.error());
    version.metrics = std::move(*metrics);
  }
  auto lineage = models::collect_lineage(request.project_root, {.image = location.image, .run = request.run_id});
  if (!lineage) return std::unexpected(lineage.error());
  version.lineage = std::move(*lineage);
  if (!request.git_commit.empty() && !version.lineage.contains("git"))
    version.lineage["git"] = {{"commit", request.git_commit}};
  return version;
}

// A release's training (the location names an image) registers a model once per commit and
// image: a run that was interrupted after registering, run again, finds its version instead of
// adding another.
Result<std::optional<models::VersionRecord>> registered_before(models::Registry& registry,
                                                               const models::NewVersion& version,
                                                               const RegistryLocation& location) {
  const nlohmann::json& lineage = version.lineage;
  if (location.image.empty() || !lineage.contains("git") || lineage["git"].value("dirty", true)) return std::nullopt;
  auto versions = registry.list_versions({.name = version.name, .limit = 50});
  if (!versions && versions.error().code() == Errc::not_found) return std::nullopt;
  if (!versions) return std::unexpected(versions.error());
  for (auto& earlier : *versions) {
    const nlohmann::json& seen = earlier.lineage;
    if (earlier.artifact.digest == version.artifact.digest && seen.value("image", "") == location.image &&
        seen.contains("git") && seen["git"].value("commit", "") == lineage["git"].value("commit", ""))
      return std::move(earlier);
  }
  return std::nullopt;
}

// Puts the request's artifact into the location's store.
Result<models::StoredArtifact> store_artifact(const RegisterRequest& request, const RegistryLocation& location) {
  std::error_code ec;
  if (!std::filesystem::exists(request.artifact, ec))
    return fail(Errc::not_found, fmt::format("artifact {}: no such file or directory", request.artifact));
  auto store = models::open_artifact_store(location.artifacts, {.project_root = request.project_root});
  if (!store) return std::unexpected(store.error());
  return (*store)->put(request.artifact, core::silent_reporter());
}

// The version `staged` describes (stage_model's JSON), every field checked.
Result<models::NewVersion> staged_version(const nlohmann::json& staged, std::string_view source) {
  auto bad = [&](std::string_view field, std::string_view why) {
    return fail(Errc::invalid, fmt::format("{}: the staged registration's {} {}", source, field, why),
                "it is what `mlctl pipeline action register --stage` writes; was the step's image another mlctl?");
  };
  if (!staged.is_object()) return bad("text", "is not a JSON object");
  for (const char* key : {"params", "metrics", "tags", "lineage", "artifact"})
    if (!staged.contains(key) || !staged[key].is_object()) return bad(key, "is missing or not an object");
  if (!staged.contains("model") || !staged["model"].is_string()) return bad("model", "is missing or not a string");
  models::NewVersion version{.name = staged["model"].get<std::string>(),
                             .params = staged["params"],
                             .metrics = staged["metrics"],
                             .tags = staged["tags"],
                             .lineage = staged["lineage"]};
  if (auto checked = models::check_model_name(version.name); !checked)
    return std::unexpected(checked.error().context(std::string(source)));
  for (const auto& [key, value] : version.metrics.items())
    if (!value.is_number() || !models::check_key(key)) return bad("metrics", fmt::format("'{}' is not a named number", key));
  const nlohmann::json& artifact = staged["artifact"];
  if (!artifact.value("uri", nlohmann::json()).is_string() || !artifact.value("digest", nlohmann::json()).is_string() ||
      !artifact.value("size", nlohmann::json()).is_number_unsigned() ||
      !artifact.value("directory", nlohmann::json()).is_boolean())
    return bad("artifact", "needs uri, digest, size and directory");
  version.artifact = {.uri = artifact["uri"].get<std::string>(),
                      .digest = artifact["digest"].get<std::string>(),
                      .size = artifact["size"].get<std::uint64_t>(),
                      .directory = artifact["directory"].get<bool>()};
  if (version.artifact.uri.empty() || !core::check_sha256_digest(version.artifact.digest))
    return bad("artifact", "names no stored artifact");
  return version;
}

// A version registered before from the same run with the same artifact.
Result<std::optional<models::VersionRecord>> registered_by_run(models::Registry& registry,
                                                              const models::NewVersion& version) {
  std::string run = version.lineage.value("run", "");
  auto versions = registry.list_versions({.name = version.name, .limit = 50});
  if (!versions && versions.error().code() == Errc::not_found) return std::nullopt;
  if (!versions) return std::unexpected(versions.error());
  for (auto& earlier : *versions)
    if (!run.empty() && earlier.lineage.value("run", "") == run && earlier.artifact.digest == version.artifact.digest)
      return std::move(earlier);
  return std::nullopt;
}

}  // namespace

Result<nlohmann::json> stage_model(const RegisterRequest& request, const RegistryLocation& location) {
  auto version = new_version(request, location);
  if (!version) return std::unexpected(version.error());
  auto artifact = store_artifact(request, location);
  if (!artifact) return std::unexpected(artifact.error());
  return nlohmann::json{{"model", version->name},
                        {"params", version->params},
                        {"metrics", version->metrics},
                        {"tags", version->tags},
                        {"lineage", version->lineage},
                        {"artifact",
                         {{"uri", artifact->uri},
                          {"digest", artifact->digest},
                          {"size", artifact->size},
                          {"directory", artifact->directory}}}};
}

Result<models::VersionRecord> register_staged(const nlohmann::json& staged, std::string_view source,
                                              const RegistryLocation& location) {
  if (location.database.empty()) return fail(Errc::precondition, "no registry database to register the model in");
  auto version = staged_version(staged, source);
  if (!version) return std::unexpected(version.error());
  version->flavor = location.flavor;
  if (!location.image.empty()) version->lineage["image"] = location.image;
  auto registry = models::Registry::open(location.database, models::OpenMode::create);
  if (!registry) return std::unexpected(registry.error());
  auto before = registered_by_run(*registry, *version);
  if (!before) return std::unexpected(before.error());
  if (*before) return std::move(**before);
  auto actor = models::default_actor(core::process_env());
  return registry->register_version(
      *version, {.actor = actor, .reason = fmt::format("pipeline run {}", version->lineage.value("run", ""))});
}

Result<models::VersionRecord> register_model(const RegisterRequest& request, const RegistryLocation& location) {
  if (location.database.empty())
    return fail(Errc::precondition, "no registry database to register the model in");
  auto version = new_version(request, location);
  if (!version) return std::unexpected(version.error());
  // Open the database before copying, so a bad registry path fails before the copy.
  auto registry = models::Registry::open(location.database, models::OpenMode::create);
  if (!registry) return std::unexpected(registry.error());
  auto artifact = store_artifact(request, location);
  if (!artifact) return std::unexpected(artifact.error());
  version->artifact = std::move(*artifact);
  auto before = registered_before(*registry, *version, location);
  if (!before) return std::unexpected(before.error());
  if (*before) return std::move(**before);
  auto actor = models::default_actor(core::process_env());
  return registry->register_version(*version, {.actor = actor, .reason = fmt::format("pipeline run {}", request.run_id)});
}

}  // namespace mlctl::pipeline
