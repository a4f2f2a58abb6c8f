#include <mlctl/oci/manifest.hpp>

#include <mlctl/oci/json_fields.hpp>

#include <string>

namespace mlctl::oci {

namespace {

using json_fields::FieldError;
using json_fields::Json;

int schema_version(const Json& document) {
  std::int64_t version = json_fields::required_int(document, "schemaVersion", "");
  if (version != 2) throw FieldError{"schemaVersion: " + std::to_string(version) + " is not supported (only 2)"};
  return 2;
}

// An absent mediaType is allowed by the OCI spec; anything else must be of the expected kind,
// so that an index is never read as a manifest.
std::string media_type(const Json& document, bool (*accepted)(std::string_view), std::string_view fallback) {
  std::string type = json_fields::optional_string(document, "mediaType", "");
  if (type.empty()) return std::string(fallback);
  if (!accepted(type)) throw FieldError{"mediaType: unexpected '" + type + "'"};
  return type;
}

std::vector<Descriptor> descriptor_list(const Json& document, std::string_view key) {
  std::vector<Descriptor> out;
  const Json* list = json_fields::member(document, key, "");
  if (!list) return out;
  if (!list->is_array()) throw FieldError{std::string(key) + ": expected an array"};
  for (size_t i = 0; i < list->size(); ++i) {
    out.push_back(json_fields::descriptor_from((*list)[i], std::string(key) + "[" + std::to_string(i) + "]"));
  }
  return out;
}

std::optional<Descriptor> subject(const Json& document) {
  const Json* value = json_fields::member(document, "subject", "");
  if (!value) return std::nullopt;
  return json_fields::descriptor_from(*value, "subject");
}

Json descriptor_array(const std::vector<Descriptor>& descriptors) {
  Json out = Json::array();
  for (const Descriptor& descriptor : descriptors) out.push_back(json_fields::descriptor_json(descriptor));
  return out;
}

}  // namespace

std::string to_json(const Manifest& manifest) {
  Json out = Json::object();
  out["schemaVersion"] = manifest.schema_version;
  json_fields::put_if(out, "mediaType", manifest.media_type);
  json_fields::put_if(out, "artifactType", manifest.artifact_type);
  out["config"] = json_fields::descriptor_json(manifest.config);
  out["layers"] = descriptor_array(manifest.layers);
  if (manifest.subject) out["subject"] = json_fields::descriptor_json(*manifest.subject);
  json_fields::put_if(out, "annotations", manifest.annotations);
  return json_fields::canonical(out);
}

std::string to_json(const Index& index) {
  Json out = Json::object();
  out["schemaVersion"] = index.schema_version;
  json_fields::put_if(out, "mediaType", index.media_type);
  json_fields::put_if(out, "artifactType", index.artifact_type);
  out["manifests"] = descriptor_array(index.manifests);
  if (index.subject) out["subject"] = json_fields::descriptor_json(*index.subject);
  json_fields::put_if(out, "annotations", index.annotations);
  return json_fields::canonical(out);
}

Result<Manifest> parse_manifest(std::string_view json) {
  return json_fields::parse_document<Manifest>(json, "manifest", [](const Json& document) {
    Manifest out;
    out.schema_version = schema_version(document);
    out.media_type = media_type(document, is_manifest_type, k_oci_manifest);
    out.artifact_type = json_fields::optional_string(document, "artifactType", "");
    const Json* config = json_fields::member(document, "config", "");
    if (!config) throw FieldError{"config: missing"};
    out.config = json_fields::descriptor_from(*config, "config");
    out.layers = descriptor_list(document, "layers");
    out.subject = subject(document);
    out.annotations = json_fields::string_map(document, "annotations", "");
    return out;
  });
}

Result<Index> parse_index(std::string_view json) {
  return json_fields::parse_document<Index>(json, "index", [](const Json& document) {
    Index out;
    out.schema_version = schema_version(document);
    out.media_type = media_type(document, is_index_type, k_oci_index);
    out.artifact_type = json_fields::optional_string(document, "artifactType", "");
    if (!json_fields::member(document, "manifests", "")) throw FieldError{"manifests: missing"};
    out.manifests = descriptor_list(document, "manifests");
    out.subject = subject(document);
    out.annotations = json_fields::string_map(document, "annotations", "");
    return out;
  });
}

}  // namespace mlctl::oci
