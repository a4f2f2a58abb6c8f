#include "fake_kfp.hpp"

#include <fmt/format.h>
#include <httplib.h>
#include <yaml-cpp/yaml.h>

#include <set>
#include <sstream>

namespace mlctl::test {

namespace {

constexpr std::string_view k_created_at = "2024-05-01T03:00:00Z";

// Behind Kubeflow's gateway a bad token is refused before the API server sees it.
nlohmann::json unauthorized(const std::string& authorization) {
  return {{"error", "Unauthorized"}, {"code", 16}, {"message", "Jwt verification fails for " + authorization}};
}

nlohmann::json gateway_error(int code, const std::string& message) {
  return {{"error", message}, {"code", code}, {"message", message}, {"details", nlohmann::json::array()}};
}

nlohmann::json upload_error(const std::string& message) {
  return {{"error_message", message}, {"error_details", message}};
}

bool is_spec(const std::string& content) {
  try {
    YAML::Node spec = YAML::Load(content);
    return spec.IsMap() && spec["pipelineInfo"] && spec["root"] && spec["schemaVersion"];
  } catch (const YAML::Exception&) {
    return false;
  }
}

}  // namespace

FakeKfp::FakeKfp() : server_(std::string(k_token), unauthorized) {
  using Match = const std::smatch&;
  server_.route(
      "GET", "/apis/v2beta1/pipelines/names/([^/]+)",
      [this](const httplib::Request& req, httplib::Response& res, Match m) { find_pipeline(req, res, m[1]); });
  server_.route("POST", "/apis/v2beta1/pipelines",
                [this](const httplib::Request& req, httplib::Response& res, Match) { create_pipeline(req, res); });
  server_.route("POST", "/apis/v2beta1/pipelines/upload_version",
                [this](const httplib::Request& req, httplib::Response& res, Match) { upload_version(req, res); });
  server_.route("POST", "/apis/v2beta1/runs",
                [this](const httplib::Request& req, httplib::Response& res, Match) { create_run(req, res); });
  server_.route("POST", "/apis/v2beta1/recurringruns",
                [this](const httplib::Request& req, httplib::Response& res, Match) { create_recurring_run(req, res); });
  server_.route("GET", "/apis/v2beta1/runs/([^/]+)",
                [this](const httplib::Request&, httplib::Response& res, Match m) { get_run(res, m[1]); });
}

void FakeKfp::script(const std::string& run_id, std::vector<nlohmann::json> updates) {
  std::lock_guard lock(mutex_);
  scripts_[run_id] = std::move(updates);
}

std::string FakeKfp::uploaded(const std::string& version_id) const {
  std::lock_guard lock(mutex_);
  auto it = specs_.find(version_id);
  return it == specs_.end() ? "" : it->second;
}

void FakeKfp::find_pipeline(const httplib::Request& req, httplib::Response& res, const std::string& name) {
  std::string namespace_name = req.get_param_value("namespace");
  std::lock_guard lock(mutex_);
  for (const auto& [id, pipeline] : pipelines_)
    if (pipeline["name"] == name && pipeline.value("namespace", "") == namespace_name) return reply(res, 200, pipeline);
  reply(res, 404, gateway_error(5, fmt::format("Failed to get a pipeline with name {}: ResourceNotFoundError", name)));
}

void FakeKfp::create_pipeline(const httplib::Request& req, httplib::Response& res) {
  auto body = nlohmann::json::parse(req.body, nullptr, false);
  bool json = req.get_header_value("Content-Type") == "application/json";
  if (!json || !body.is_object() || !body.contains("name") || !body["name"].is_string() ||
      body.contains("pipeline_id")) {
    server_.problem("CreatePipeline needs a JSON v2beta1Pipeline with a name and no pipeline_id");
    return reply(res, 400, gateway_error(3, "Invalid input error: pipeline name is empty"));
  }
  std::lock_guard lock(mutex_);
  for (const auto& [id, pipeline] : pipelines_)
    if (pipeline["name"] == body["name"])
      return reply(
          res, 409,
          gateway_error(6, "Failed to create a pipeline: Already exist error: a pipeline with this name exists"));
  std::string id = fmt::format("p-{}", pipelines_.size() + 1);
  body["pipeline_id"] = id;
  body["created_at"] = k_created_at;
  pipelines_[id] = body;
  reply(res, 200, body);
}

std::string FakeKfp::check_upload(const httplib::Request& req) const {
  if (!req.get_header_value("Content-Type").starts_with("multipart/form-data; boundary="))
    return "the upload is not multipart/form-data";
  if (req.files.size() != 1 || !req.has_file("uploadfile")) return "the upload must hold one file, uploadfile";
  auto file = req.get_file_value("uploadfile");
  if (!file.filename.ends_with(".yaml") && !file.filename.ends_with(".yml")) return "the file name must end in .yaml";
  if (!is_spec(file.content)) return "the uploaded file is not a pipeline spec";
  if (req.get_param_value("name").empty()) return "the version has no name";
  return "";
}

void FakeKfp::upload_version(const httplib::Request& req, httplib::Response& res) {
  if (auto problem = check_upload(req); !problem.empty()) {
    server_.problem(problem);
    return reply(
        res, 400,
        upload_error("Failed to create a pipeline version due to error reading pipeline spec file: " + problem));
  }
  std::string pipeline_id = req.get_param_value("pipelineid");
  std::string name = req.get_param_value("name");
  std::lock_guard lock(mutex_);
  if (!pipelines_.contains(pipeline_id))
    return reply(res, 400,
                 upload_error("Failed to create a pipeline version due to error reading namespace: "
                              "ResourceNotFoundError: Pipeline " +
                              pipeline_id + " not found"));
  for (const auto& [id, version] : versions_)
    if (version["pipeline_id"] == pipeline_id && version["name"] == name)
      return reply(res, 409,
                   upload_error("Failed to create a pipeline version. The pipeline already exists.: "
                                "AlreadyExistsError: pipeline version " +
                                name + " exists"));
  std::string id = fmt::format("v-{}", versions_.size() + 1);
  nlohmann::json version = {{"pipeline_id", pipeline_id},
                            {"pipeline_version_id", id},
                            {"name", name},
                            {"display_name", name},
                            {"created_at", k_created_at}};
  versions_[id] = version;
  specs_[id] = req.get_file_value("uploadfile").content;
  reply(res, 200, version);
}

std::string FakeKfp::check_run(const nlohmann::json& run) const {
  static const std::set<std::string> k_fields{"display_name",   "description",   "pipeline_version_reference",
                                              "runtime_config", "experiment_id", "service_account"};
  if (!run.is_object()) return "the run is not a JSON object";
  for (const auto& [key, value] : run.items())
    if (!k_fields.contains(key)) return fmt::format("unknown field \"{}\" in the run", key);
  if (!run.contains("display_name") || run["display_name"] == "") return "the run has no display_name";
  const auto& reference = run.value("pipeline_version_reference", nlohmann::json::object());
  if (!pipelines_.contains(reference.value("pipeline_id", ""))) return "unknown pipeline_id";
  if (!versions_.contains(reference.value("pipeline_version_id", ""))) return "unknown pipeline_version_id";
  const auto& parameters = run.value("runtime_config", nlohmann::json::object()).value("parameters", nlohmann::json());
  if (!parameters.is_object()) return "runtime_config.parameters must be an object";
  return "";
}

void FakeKfp::create_run(const httplib::Request& req, httplib::Response& res) {
  auto run = nlohmann::json::parse(req.body, nullptr, false);
  std::lock_guard lock(mutex_);
  std::string problem = req.get_header_value("Content-Type") != "application/json"
                            ? "Content-Type must be application/json"
                            : check_run(run);
  if (!problem.empty()) {
    server_.problem(problem);
    return reply(res, 400, gateway_error(3, "Invalid input error: " + problem));
  }
  std::string id = fmt::format("r-{}", runs_.size() + 1);
  run["run_id"] = id;
  run["state"] = "PENDING";
  run["storage_state"] = "AVAILABLE";
  run["created_at"] = k_created_at;
  runs_[id] = run;
  reply(res, 200, run);
}

// v2beta1RecurringRun: the fields of a run, and a trigger KFP's scheduler (robfig/cron, six
// fields with seconds first, or a macro) can read.
std::string FakeKfp::check_recurring_run(const nlohmann::json& run) const {
  static const std::set<std::string> k_fields{"display_name",    "description", "pipeline_version_reference",
                                              "runtime_config",  "experiment_id", "service_account",
                                              "max_concurrency", "trigger",     "mode",
                                              "no_catchup",      "namespace"};
  if (!run.is_object()) return "the recurring run is not a JSON object";
  nlohmann::json as_run = run;
  for (const auto& [key, value] : run.items()) {
    if (!k_fields.contains(key)) return fmt::format("unknown field \"{}\" in the recurring run", key);
    if (key == "max_concurrency" || key == "trigger" || key == "mode" || key == "no_catchup" || key == "namespace")
      as_run.erase(key);
  }
  if (std::string problem = check_run(as_run); !problem.empty()) return problem;
  std::string cron = run.value("trigger", nlohmann::json::object())
                         .value("cron_schedule", nlohmann::json::object())
                         .value("cron", "");
  size_t fields = 0;
  for (std::istringstream words(cron); words >> cron;) ++fields;
  if (fields != 6 && !run["trigger"]["cron_schedule"]["cron"].get<std::string>().starts_with('@'))
    return "trigger.cron_schedule.cron needs six fields (seconds first)";
  if (run.value("mode", "") != "ENABLE" && run.value("mode", "") != "DISABLE") return "mode must be ENABLE or DISABLE";
  if (!run.value("max_concurrency", nlohmann::json("1")).is_string()) return "max_concurrency is an int64 string";
  return "";
}

void FakeKfp::create_recurring_run(const httplib::Request& req, httplib::Response& res) {
  auto run = nlohmann::json::parse(req.body, nullptr, false);
  std::lock_guard lock(mutex_);
  std::string problem = check_recurring_run(run);
  if (!problem.empty()) {
    server_.problem(problem);
    return reply(res, 400, gateway_error(3, "Invalid input error: " + problem));
  }
  std::string id = fmt::format("rr-{}", recurring_runs_.size() + 1);
  run["recurring_run_id"] = id;
  run["status"] = run["mode"] == "ENABLE" ? "ENABLED" : "DISABLED";
  run["created_at"] = k_created_at;
  recurring_runs_[id] = run;
  reply(res, 200, run);
}

std::optional<nlohmann::json> FakeKfp::recurring_run(const std::string& id) const {
  std::lock_guard lock(mutex_);
  auto it = recurring_runs_.find(id);
  if (it == recurring_runs_.end()) return std::nullopt;
  return it->second;
}

void FakeKfp::get_run(httplib::Response& res, const std::string& run_id) {
  std::lock_guard lock(mutex_);
  auto it = runs_.find(run_id);
  if (it == runs_.end())
    return reply(res, 404,
                 gateway_error(5, fmt::format("Failed to get run: ResourceNotFoundError: Run {} not found", run_id)));
  nlohmann::json run = it->second;
  auto& script = scripts_[run_id];
  if (!script.empty()) {
    run.update(script.front());
    if (script.size() > 1) script.erase(script.begin());
  }
  reply(res, 200, run);
}

}  // namespace mlctl::test
