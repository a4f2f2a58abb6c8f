#include "fake_argo.hpp"

#include <fmt/format.h>
#include <httplib.h>

#include <array>

namespace mlctl::test {

namespace {

struct Collection {
  std::string_view path;
  std::string_view field;  // the member of the create request holding the object
  std::string_view kind;
  std::string_view resource;
};

constexpr std::array k_collections{
    Collection{"workflows", "workflow", "Workflow", "workflows.argoproj.io"},
    Collection{"cron-workflows", "cronWorkflow", "CronWorkflow", "cronworkflows.argoproj.io"},
    Collection{"workflow-templates", "template", "WorkflowTemplate", "workflowtemplates.argoproj.io"},
};

// The suffixes the server appends to generateName, in order.
constexpr std::array<std::string_view, 3> k_suffixes{"x7k2p", "m4q9z", "t2w8r"};

const Collection& collection_of(std::string_view path) {
  return *std::ranges::find(k_collections, path, &Collection::path);
}

// argo-server echoes what it got here, as some proxies do, so that the client's masking is tested.
nlohmann::json unauthorized(const std::string& authorization) {
  return {{"code", 16}, {"message", "token not valid: got " + authorization}};
}

bool non_empty_array(const nlohmann::json& object, const char* key) {
  return object.contains(key) && object[key].is_array() && !object[key].empty();
}

std::string check_spec(const Collection& collection, const nlohmann::json& spec) {
  if (!spec.is_object()) return "spec must be an object";
  if (collection.kind == "CronWorkflow") {
    // "schedules" since Argo 3.6, "schedule" before.
    if (!non_empty_array(spec, "schedules") && !(spec.contains("schedule") && spec["schedule"].is_string()))
      return "spec.schedules is required";
    if (!spec.contains("workflowSpec")) return "spec.workflowSpec is required";
    return check_spec(k_collections[0], spec["workflowSpec"]);
  }
  if (!non_empty_array(spec, "templates")) return "spec.templates must not be empty";
  if (collection.kind == "Workflow" && (!spec.contains("entrypoint") || !spec["entrypoint"].is_string()))
    return "spec.entrypoint is required";
  return "";
}

}  // namespace

FakeArgo::FakeArgo() : server_(std::string(k_token), unauthorized) {
  server_.route("POST", "/api/v1/(workflows|cron-workflows|workflow-templates)/([^/]+)",
                [this](const httplib::Request& req, httplib::Response& res, const std::smatch& m) {
                  create(req, res, m[1], m[2]);
                });
  server_.route(
      "GET", "/api/v1/workflows/([^/]+)/([^/]+)",
      [this](const httplib::Request&, httplib::Response& res, const std::smatch& m) { get_workflow(res, m[1], m[2]); });
  server_.route(
      "GET", "/api/v1/workflows/([^/]+)/([^/]+)/log",
      [this](const httplib::Request& req, httplib::Response& res, const std::smatch& m) {
        if (!object("workflows/" + std::string(m[1]) + "/" + std::string(m[2])))
          return reply(
              res, 404,
              {{"code", 5}, {"message", fmt::format("workflows.argoproj.io \"{}\" not found", std::string(m[2]))}});
        logs(req, res, m[2]);
      });
}

void FakeArgo::script(const std::string& name, std::vector<nlohmann::json> statuses) {
  std::lock_guard lock(mutex_);
  scripts_[name] = std::move(statuses);
}

void FakeArgo::set_logs(const std::string& name, std::vector<std::pair<std::string, std::string>> lines) {
  std::lock_guard lock(mutex_);
  logs_[name] = std::move(lines);
}

std::optional<nlohmann::json> FakeArgo::object(const std::string& key) const {
  std::lock_guard lock(mutex_);
  auto it = objects_.find(key);
  if (it == objects_.end()) return std::nullopt;
  return it->second;
}

void FakeArgo::remove(const std::string& key) {
  std::lock_guard lock(mutex_);
  objects_.erase(key);
}

std::string FakeArgo::check_create(const std::string& path, const std::string& namespace_name,
                                   const nlohmann::json& request) const {
  const Collection& collection = collection_of(path);
  if (!request.is_object()) return "the body must be a JSON object";
  for (const auto& [key, value] : request.items()) {
    if (key != "namespace" && key != collection.field && key != "createOptions" && key != "serverDryRun")
      return fmt::format("unknown field \"{}\" in the create request", key);
  }
  if (request.contains("namespace") && request["namespace"] != namespace_name)
    return "namespace does not match the path";
  if (!request.contains(collection.field) || !request[collection.field].is_object())
    return fmt::format("the request has no \"{}\" object", collection.field);
  const auto& object = request[collection.field];
  if (object.value("apiVersion", "") != "argoproj.io/v1alpha1") return "apiVersion must be argoproj.io/v1alpha1";
  if (object.value("kind", "") != collection.kind) return fmt::format("kind must be {}", collection.kind);
  const auto& metadata = object.value("metadata", nlohmann::json::object());
  if (!metadata.contains("name") && !metadata.contains("generateName"))
    return "metadata.name or generateName is required";
  if (metadata.contains("namespace") && metadata["namespace"] != namespace_name)
    return "metadata.namespace does not match";
  return check_spec(collection, object.value("spec", nlohmann::json()));
}

void FakeArgo::create(const httplib::Request& req, httplib::Response& res, const std::string& path,
                      const std::string& namespace_name) {
  auto request = nlohmann::json::parse(req.body, nullptr, false);
  std::string problem = req.get_header_value("Content-Type") != "application/json"
                            ? "Content-Type must be application/json"
                        : request.is_discarded() ? "the body is not JSON"
                                                 : check_create(path, namespace_name, request);
  if (!problem.empty()) {
    server_.problem(problem);
    return reply(res, 400, {{"code", 3}, {"message", problem}});
  }
  if (!namespaces_.contains(namespace_name))
    return reply(res, 404, {{"code", 5}, {"message", fmt::format("namespaces \"{}\" not found", namespace_name)}});
  const Collection& collection = collection_of(path);
  nlohmann::json object = request[collection.field];
  auto& metadata = object["metadata"];
  std::unique_lock lock(mutex_);
  if (!metadata.contains("name"))
    metadata["name"] =
        metadata["generateName"].get<std::string>() + std::string(k_suffixes[created_ % k_suffixes.size()]);
  std::string name = metadata["name"];
  std::string key = fmt::format("{}/{}/{}", path, namespace_name, name);
  if (objects_.contains(key))
    return reply(res, 409,
                 {{"code", 6}, {"message", fmt::format("{} \"{}\" already exists", collection.resource, name)}});
  metadata["namespace"] = namespace_name;
  metadata["uid"] = fmt::format("uid-{}", ++created_);
  metadata["creationTimestamp"] = "2024-05-01T03:00:00Z";
  objects_[key] = object;
  auto hook = on_create_;
  lock.unlock();
  if (hook && collection.kind == "Workflow") hook(name, object);
  reply(res, 200, object);
}

void FakeArgo::on_create(std::function<void(const std::string& name, const nlohmann::json& workflow)> hook) {
  std::lock_guard lock(mutex_);
  on_create_ = std::move(hook);
}

void FakeArgo::get_workflow(httplib::Response& res, const std::string& namespace_name, const std::string& name) {
  std::lock_guard lock(mutex_);
  auto it = objects_.find(fmt::format("workflows/{}/{}", namespace_name, name));
  if (it == objects_.end())
    return reply(res, 404, {{"code", 5}, {"message", fmt::format("workflows.argoproj.io \"{}\" not found", name)}});
  nlohmann::json workflow = it->second;
  auto& script = scripts_[name];
  if (!script.empty()) {
    workflow["status"] = script.front();
    if (script.size() > 1) script.erase(script.begin());
  }
  reply(res, 200, workflow);
}

void FakeArgo::logs(const httplib::Request& req, httplib::Response& res, const std::string& name) {
  if (req.get_header_value("Accept") != "text/event-stream")
    server_.problem("logs asked for without Accept: text/event-stream");
  if (req.get_param_value("logOptions.container") != "main")
    server_.problem("logs asked for without logOptions.container=main");
  std::string pod = req.get_param_value("podName");
  std::string body;
  std::lock_guard lock(mutex_);
  for (const auto& [pod_name, content] : logs_[name]) {
    if (!pod.empty() && pod != pod_name) continue;
    body += "data: " + nlohmann::json{{"result", {{"content", content}, {"podName", pod_name}}}}.dump() + "\n\n";
  }
  res.status = 200;
  res.set_content(body, "text/event-stream");
}

}  // namespace mlctl::test
