#include <mlctl/deploy/k8s.hpp>

#include <mlctl/deploy/objects.hpp>

#include <mlctl/core/digest.hpp>
#include <mlctl/core/quantity.hpp>
#include <mlctl/core/text.hpp>
#include <mlctl/core/yaml_out.hpp>
#include <mlctl/oci/remote/reference.hpp>

#include <cctype>

#include <fmt/format.h>

namespace mlctl::deploy {

namespace {

using Json = nlohmann::json;

Result<void> check_field(Result<void> checked, std::string_view field) {
  if (!checked) return fail(Errc::invalid, fmt::format("{}: {}", field, checked.error().message()), checked.error().hint());
  return {};
}

// `reference` (given as `shown`) names an image by its digest.
Result<void> check_pinned(std::string_view reference, std::string_view shown, std::string_view field,
                          std::string_view hint) {
  auto parsed = oci::remote::parse_reference(reference);
  if (!parsed) return check_field(std::unexpected(parsed.error()), field);
  if (parsed->digest.empty())
    return fail(Errc::invalid, fmt::format("{}: '{}' is not pinned by a digest", field, shown), std::string(hint));
  return {};
}

constexpr std::string_view k_oci_scheme = "oci://";
constexpr std::string_view k_tool_image_hint = "pass --tool-image REF@sha256:DIGEST (or set MLCTL_TOOL_IMAGE)";

// What the packaging needs from where the artifact is stored and from the tool image.
Result<void> check_packaging(const ServedModel& model) {
  const std::string& uri = model.artifact_uri;
  switch (model.packaging) {
    case Packaging::image:
      return {};
    case Packaging::init:
      if (!uri.starts_with("s3://") && !uri.starts_with(k_oci_scheme))
        return fail(Errc::invalid,
                    fmt::format("artifact uri: packaging init fetches the model in the cluster, which cannot "
                                "reach '{}'", uri),
                    "register the model to an s3:// or oci:// artifact store (--artifact-store, or "
                    "registry.artifacts in mlctl.yaml)");
      if (model.tool_image.empty())
        return fail(Errc::invalid, "tool image: packaging init needs the mlctl tool image to fetch the model",
                    std::string(k_tool_image_hint));
      return check_pinned(model.tool_image, model.tool_image, "tool image", k_tool_image_hint);
    case Packaging::modelcar:
      if (!uri.starts_with(k_oci_scheme))
        return fail(Errc::invalid,
                    fmt::format("artifact uri: packaging modelcar mounts the model's OCI image, and '{}' is not one",
                                uri),
                    "register the model to an oci://REGISTRY/REPOSITORY artifact store, or use packaging init");
      return check_pinned(std::string_view(uri).substr(k_oci_scheme.size()), uri, "artifact uri",
                          "use the oci://REGISTRY/REPOSITORY@sha256:DIGEST URI the registry records");
  }
  return fail(Errc::invalid, "packaging: not image, init or modelcar");
}

}  // namespace

Result<Packaging> parse_packaging(std::string_view text) {
  if (text == "image") return Packaging::image;
  if (text == "init") return Packaging::init;
  if (text == "modelcar") return Packaging::modelcar;
  return fail(Errc::invalid, fmt::format("packaging: '{}' is not image, init or modelcar", text));
}

Result<void> check_served_model(const ServedModel& model) {
  if (auto ok = check_field(core::check_dns1123_label(model.model), "model"); !ok) return ok;
  // A Service name must also start with a letter (DNS-1035).
  if (!std::isalpha(static_cast<unsigned char>(model.model.front())))
    return fail(Errc::invalid, fmt::format("model: '{}' must start with a letter to name a Service", model.model));
  if (auto ok = check_field(core::check_dns1123_label(model.environment), "environment"); !ok) return ok;
  if (auto ok = check_field(core::check_dns1123_label(model.namespace_name), "namespace"); !ok) return ok;
  if (model.model.size() + 1 + model.environment.size() > 63)
    return fail(Errc::invalid, fmt::format("model and environment: '{}-{}' (the instance label) is longer than 63 "
                                           "characters", model.model, model.environment));
  if (!model.project.empty())
    if (auto ok = check_field(core::check_dns1123_label(model.project), "project"); !ok) return ok;
  if (model.version < 1) return fail(Errc::invalid, fmt::format("version: {} is not a registered version", model.version));
  if (auto ok = check_field(core::check_sha256_digest(model.artifact_digest), "artifact digest"); !ok) return ok;
  auto image = oci::remote::parse_reference(model.image);
  if (!image) return check_field(std::unexpected(image.error()), "image");
  if (image->digest.empty())
    return fail(Errc::invalid, fmt::format("image: '{}' is not pinned by a digest", model.image),
                "give it as REF@sha256:DIGEST, as `mlctl build --push` prints it");
  if (auto ok = check_field(core::check_cpu(model.resources.cpu), "resources.cpu"); !ok) return ok;
  if (auto ok = check_field(core::check_memory(model.resources.memory), "resources.memory"); !ok) return ok;
  if (model.resources.gpu < 0) return fail(Errc::invalid, "resources.gpu: must be 0 or more");
  const Autoscaling& scaling = model.autoscaling;
  if (scaling.min_replicas < 1 || scaling.max_replicas < scaling.min_replicas)
    return fail(Errc::invalid, fmt::format("autoscaling: replicas {}..{}: need 1 <= min <= max", scaling.min_replicas,
                                           scaling.max_replicas));
  if (scaling.cpu_utilization < 1 || scaling.cpu_utilization > 100)
    return fail(Errc::invalid, fmt::format("autoscaling.cpu: {}% is not within 1..100", scaling.cpu_utilization));
  return check_packaging(model);
}

Result<std::vector<nlohmann::json>> render_direct(const ServedModel& model) {
  if (auto ok = check_served_model(model); !ok) return std::unexpected(ok.error());
  Workload workload = whole_model(model);
  return std::vector<Json>{service_account(model), deployment(workload),        service(model),
                           autoscaler(workload),   disruption_budget(workload), network_policy(model)};
}

std::string manifest_yaml(const std::vector<nlohmann::json>& objects) {
  std::string out;
  for (const auto& document : objects) {
    if (!out.empty()) out += "---\n";
    out += core::to_yaml(document);
  }
  return out;
}

}  // namespace mlctl::deploy
