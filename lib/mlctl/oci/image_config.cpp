#include <mlctl/oci/image_config.hpp>

#include <mlctl/oci/json_fields.hpp>

#include <ctime>

#include <fmt/format.h>

namespace mlctl::oci {

namespace {

using json_fields::FieldError;
using json_fields::Json;

std::optional<std::vector<std::string>> optional_list(const Json& object, std::string_view key,
                                                      std::string_view where) {
  if (!json_fields::member(object, key, where)) return std::nullopt;
  return json_fields::string_list(object, key, where);
}

ContainerConfig container_config(const Json& object) {
  constexpr std::string_view at = "config";
  ContainerConfig out;
  out.user = json_fields::optional_string(object, "User", at);
  out.exposed_ports = json_fields::key_set(object, "ExposedPorts", at);
  out.env = json_fields::string_list(object, "Env", at);
  out.entrypoint = optional_list(object, "Entrypoint", at);
  out.cmd = optional_list(object, "Cmd", at);
  out.volumes = json_fields::key_set(object, "Volumes", at);
  out.working_dir = json_fields::optional_string(object, "WorkingDir", at);
  out.labels = json_fields::string_map(object, "Labels", at);
  out.stop_signal = json_fields::optional_string(object, "StopSignal", at);
  return out;
}

History history_entry(const Json& object, const std::string& at) {
  History out;
  out.created = json_fields::optional_string(object, "created", at);
  out.created_by = json_fields::optional_string(object, "created_by", at);
  out.author = json_fields::optional_string(object, "author", at);
  out.comment = json_fields::optional_string(object, "comment", at);
  if (const Json* empty = json_fields::member(object, "empty_layer", at)) {
    if (!empty->is_boolean()) throw FieldError{at + ".empty_layer: expected a boolean"};
    out.empty_layer = empty->get<bool>();
  }
  return out;
}

std::vector<History> history(const Json& document) {
  std::vector<History> out;
  const Json* list = json_fields::member(document, "history", "");
  if (!list) return out;
  if (!list->is_array()) throw FieldError{"history: expected an array"};
  for (size_t i = 0; i < list->size(); ++i) {
    out.push_back(history_entry((*list)[i], "history[" + std::to_string(i) + "]"));
  }
  return out;
}

Json key_set_json(const std::set<std::string>& keys) {
  Json out = Json::object();
  for (const std::string& key : keys) out[key] = Json::object();
  return out;
}

Json container_config_json(const ContainerConfig& config) {
  Json out = Json::object();
  json_fields::put_if(out, "User", config.user);
  if (!config.exposed_ports.empty()) out["ExposedPorts"] = key_set_json(config.exposed_ports);
  json_fields::put_if(out, "Env", config.env);
  if (config.entrypoint) out["Entrypoint"] = *config.entrypoint;
  if (config.cmd) out["Cmd"] = *config.cmd;
  if (!config.volumes.empty()) out["Volumes"] = key_set_json(config.volumes);
  json_fields::put_if(out, "WorkingDir", config.working_dir);
  json_fields::put_if(out, "Labels", config.labels);
  json_fields::put_if(out, "StopSignal", config.stop_signal);
  return out;
}

Json history_json(const History& entry) {
  Json out = Json::object();
  json_fields::put_if(out, "created", entry.created);
  json_fields::put_if(out, "created_by", entry.created_by);
  json_fields::put_if(out, "author", entry.author);
  json_fields::put_if(out, "comment", entry.comment);
  if (entry.empty_layer) out["empty_layer"] = true;
  return out;
}

}  // namespace

std::string to_json(const ImageConfig& config) {
  Json out = Json::object();
  json_fields::put_if(out, "created", config.created);
  json_fields::put_if(out, "author", config.author);
  out["architecture"] = config.architecture;
  out["os"] = config.os;
  json_fields::put_if(out, "os.version", config.os_version);
  json_fields::put_if(out, "variant", config.variant);
  out["config"] = container_config_json(config.config);
  out["rootfs"] = {{"type", "layers"}, {"diff_ids", config.diff_ids}};
  if (!config.history.empty()) {
    Json list = Json::array();
    for (const History& entry : config.history) list.push_back(history_json(entry));
    out["history"] = std::move(list);
  }
  return json_fields::canonical(out);
}

std::string rfc3339_utc(std::int64_t epoch) {
  std::time_t seconds = static_cast<std::time_t>(epoch);
  std::tm utc{};
  ::gmtime_r(&seconds, &utc);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z", utc.tm_year + 1900, utc.tm_mon + 1, utc.tm_mday,
                     utc.tm_hour, utc.tm_min, utc.tm_sec);
}

Result<ImageConfig> parse_image_config(std::string_view json) {
  return json_fields::parse_document<ImageConfig>(json, "image config", [](const Json& document) {
    ImageConfig out;
    out.created = json_fields::optional_string(document, "created", "");
    out.author = json_fields::optional_string(document, "author", "");
    out.architecture = json_fields::required_string(document, "architecture", "");
    out.os = json_fields::required_string(document, "os", "");
    out.os_version = json_fields::optional_string(document, "os.version", "");
    out.variant = json_fields::optional_string(document, "variant", "");
    if (const Json* config = json_fields::member(document, "config", "")) out.config = container_config(*config);
    const Json* rootfs = json_fields::member(document, "rootfs", "");
    if (!rootfs) throw FieldError{"rootfs: missing"};
    std::string type = json_fields::required_string(*rootfs, "type", "rootfs");
    if (type != "layers") throw FieldError{"rootfs.type: expected \"layers\", got \"" + type + "\""};
    out.diff_ids = json_fields::string_list(*rootfs, "diff_ids", "rootfs");
    out.history = history(document);
    return out;
  });
}

}  // namespace mlctl::oci
