#include <mlctl/pipeline/submit/argo.hpp>

#include <mlctl/core/text.hpp>
#include <mlctl/pipeline/submit/json_reply.hpp>

#include <fmt/format.h>

#include <array>

namespace mlctl::pipeline {

namespace {

constexpr std::string_view k_api_version = "argoproj.io/v1alpha1";

// Where each kind of object is created, and the member of the create request that holds it
// (WorkflowCreateRequest, CreateCronWorkflowRequest, WorkflowTemplateCreateRequest).
struct ArgoRoute {
  std::string_view kind;
  ArgoKind argo_kind;
  std::string_view collection;
  std::string_view field;
};

constexpr std::array k_routes{
    ArgoRoute{"Workflow", ArgoKind::workflow, "workflows", "workflow"},
    ArgoRoute{"CronWorkflow", ArgoKind::cron_workflow, "cron-workflows", "cronWorkflow"},
    ArgoRoute{"WorkflowTemplate", ArgoKind::workflow_template, "workflow-templates", "template"},
};

Result<ArgoRoute> route_for(const nlohmann::json& document) {
  if (!document.is_object()) return fail(Errc::invalid, "an Argo document must be a JSON object");
  std::string api_version = reply::text(document, "apiVersion");
  if (api_version != k_api_version)
    return fail(Errc::invalid, fmt::format("the document's apiVersion is '{}', not {}", api_version, k_api_version));
  std::string kind = reply::text(document, "kind");
  for (const auto& route : k_routes)
    if (route.kind == kind) return route;
  return fail(Errc::invalid,
              fmt::format("cannot submit a '{}': only a Workflow, CronWorkflow or WorkflowTemplate", kind));
}

// "train-x7k2p", or "train-*" when the server picks the rest of the name (generateName).
Result<std::string> object_label(const nlohmann::json& metadata) {
  if (auto name = reply::text(metadata, "name"); !name.empty()) return name;
  if (auto prefix = reply::text(metadata, "generateName"); !prefix.empty()) return prefix + "*";
  return fail(Errc::invalid, "the Argo document has neither metadata.name nor metadata.generateName");
}

Result<void> check_namespace(const nlohmann::json& metadata, std::string_view namespace_name) {
  if (auto valid = core::check_dns1123_label(namespace_name); !valid)
    return fail(Errc::invalid, fmt::format("invalid namespace '{}': {}", namespace_name, valid.error().message()));
  std::string named = reply::text(metadata, "namespace");
  if (!named.empty() && named != namespace_name)
    return fail(Errc::invalid,
                fmt::format("the document belongs to namespace {} but is submitted to {}", named, namespace_name),
                "compile it for this namespace, or submit it to its own");
  return {};
}

std::string conflict_hint(ArgoKind kind) {
  if (kind == ArgoKind::workflow_template)
    return "each pipeline version is its own WorkflowTemplate: bump the project version, or delete the old template";
  return "delete the existing object, or give this one another name";
}

Result<ArgoSubmitted> read_created(std::string_view body, const ArgoRoute& route, std::string_view namespace_name) {
  auto created = reply::parse_object(body, fmt::format("the created {}", route.kind));
  if (!created) return std::unexpected(created.error());
  const auto& metadata = reply::object(*created, "metadata");
  ArgoSubmitted submitted{route.argo_kind, reply::text(metadata, "namespace"), reply::text(metadata, "name"),
                          reply::text(metadata, "uid")};
  if (submitted.name.empty()) return fail(Errc::remote, fmt::format("the server's answer names no {}", route.kind));
  if (submitted.namespace_name.empty()) submitted.namespace_name = namespace_name;
  return submitted;
}

}  // namespace

Result<ArgoSubmitted> submit_argo(const ArgoServer& server, std::string_view namespace_name,
                                  const nlohmann::json& document) {
  auto route = route_for(document);
  if (!route) return std::unexpected(route.error());
  const auto& metadata = reply::object(document, "metadata");
  auto label = object_label(metadata);
  if (!label) return std::unexpected(label.error());
  if (auto checked = check_namespace(metadata, namespace_name); !checked) return std::unexpected(checked.error());

  std::string what = fmt::format("creating {} {} in namespace {}", route->kind, *label, namespace_name);
  nlohmann::json request = {{"namespace", std::string(namespace_name)}, {std::string(route->field), document}};
  std::string body = request.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  auto created =
      server.api.post(fmt::format("/api/v1/{}/{}", route->collection, namespace_name), body, "application/json");
  if (!created) {
    Error error = created.error();
    if (error.code() == Errc::precondition) error.with_hint(conflict_hint(route->argo_kind));
    if (error.code() == Errc::not_found)
      error.with_hint("check that the namespace exists and that the URL is Argo Server's");
    return std::unexpected(error.context(what));
  }
  return with_context(read_created(*created, *route, namespace_name), what);
}

}  // namespace mlctl::pipeline
