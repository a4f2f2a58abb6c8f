#include <mlctl/oci/json_fields.hpp>

#include <mlctl/core/digest.hpp>

namespace mlctl::oci::json_fields {

std::string field_path(std::string_view where, std::string_view key) {
  if (where.empty()) return std::string(key);
  return std::string(where) + "." + std::string(key);
}

namespace {

[[noreturn]] void wrong_type(std::string_view where, std::string_view key, std::string_view expected) {
  throw FieldError{field_path(where, key) + ": expected " + std::string(expected)};
}

}  // namespace

const Json* member(const Json& object, std::string_view key, std::string_view where) {
  if (!object.is_object()) throw FieldError{std::string(where) + ": expected an object"};
  auto found = object.find(key);
  if (found == object.end() || found->is_null()) return nullptr;
  return &*found;
}

std::string required_string(const Json& object, std::string_view key, std::string_view where) {
  const Json* value = member(object, key, where);
  if (!value) throw FieldError{field_path(where, key) + ": missing"};
  if (!value->is_string()) wrong_type(where, key, "a string");
  return value->get<std::string>();
}

std::string optional_string(const Json& object, std::string_view key, std::string_view where) {
  const Json* value = member(object, key, where);
  if (!value) return {};
  if (!value->is_string()) wrong_type(where, key, "a string");
  return value->get<std::string>();
}

std::int64_t required_int(const Json& object, std::string_view key, std::string_view where) {
  const Json* value = member(object, key, where);
  if (!value) throw FieldError{field_path(where, key) + ": missing"};
  if (!value->is_number_integer()) wrong_type(where, key, "an integer");
  if (value->is_number_unsigned() && value->get<std::uint64_t>() > INT64_MAX) {
    wrong_type(where, key, "an integer below 2^63");
  }
  return value->get<std::int64_t>();
}

std::vector<std::string> string_list(const Json& object, std::string_view key, std::string_view where) {
  std::vector<std::string> out;
  const Json* value = member(object, key, where);
  if (!value) return out;
  if (!value->is_array()) wrong_type(where, key, "an array of strings");
  for (const Json& item : *value) {
    if (!item.is_string()) wrong_type(where, key, "an array of strings");
    out.push_back(item.get<std::string>());
  }
  return out;
}

std::map<std::string, std::string> string_map(const Json& object, std::string_view key,
                                              std::string_view where) {
  std::map<std::string, std::string> out;
  const Json* value = member(object, key, where);
  if (!value) return out;
  if (!value->is_object()) wrong_type(where, key, "an object of strings");
  for (const auto& [name, item] : value->items()) {
    if (!item.is_string()) wrong_type(where, field_path(key, name), "a string");
    out.emplace(name, item.get<std::string>());
  }
  return out;
}

std::set<std::string> key_set(const Json& object, std::string_view key, std::string_view where) {
  std::set<std::string> out;
  const Json* value = member(object, key, where);
  if (!value) return out;
  if (!value->is_object()) wrong_type(where, key, "an object");
  for (const auto& item : value->items()) out.insert(item.key());
  return out;
}

Descriptor descriptor_from(const Json& object, std::string_view where) {
  if (!object.is_object()) throw FieldError{std::string(where) + ": expected an object"};
  Descriptor out;
  out.media_type = required_string(object, "mediaType", where);
  out.digest = required_string(object, "digest", where);
  if (auto valid = core::check_sha256_digest(out.digest); !valid && !out.digest.starts_with("sha512:")) {
    throw FieldError{field_path(where, "digest") + ": " + valid.error().message()};
  }
  out.size = required_int(object, "size", where);
  if (out.size < 0) throw FieldError{field_path(where, "size") + ": must not be negative"};
  out.urls = string_list(object, "urls", where);
  out.annotations = string_map(object, "annotations", where);
  out.artifact_type = optional_string(object, "artifactType", where);
  if (const Json* platform = member(object, "platform", where)) {
    std::string at = field_path(where, "platform");
    out.platform = Platform{.architecture = required_string(*platform, "architecture", at),
                            .os = required_string(*platform, "os", at),
                            .os_version = optional_string(*platform, "os.version", at),
                            .os_features = string_list(*platform, "os.features", at),
                            .variant = optional_string(*platform, "variant", at)};
  }
  return out;
}

Json descriptor_json(const Descriptor& descriptor) {
  Json out = Json::object();
  out["mediaType"] = descriptor.media_type;
  out["digest"] = descriptor.digest;
  out["size"] = descriptor.size;
  put_if(out, "urls", descriptor.urls);
  put_if(out, "annotations", descriptor.annotations);
  put_if(out, "artifactType", descriptor.artifact_type);
  if (descriptor.platform) {
    const Platform& platform = *descriptor.platform;
    Json json = {{"architecture", platform.architecture}, {"os", platform.os}};
    put_if(json, "os.version", platform.os_version);
    put_if(json, "os.features", platform.os_features);
    put_if(json, "variant", platform.variant);
    out["platform"] = std::move(json);
  }
  return out;
}

void put_if(Json& object, std::string_view key, const std::string& value) {
  if (!value.empty()) object[std::string(key)] = value;
}

void put_if(Json& object, std::string_view key, const std::map<std::string, std::string>& value) {
  if (!value.empty()) object[std::string(key)] = value;
}

void put_if(Json& object, std::string_view key, const std::vector<std::string>& value) {
  if (!value.empty()) object[std::string(key)] = value;
}

std::string canonical(const Json& value) {
  return value.dump(-1, ' ', false, Json::error_handler_t::replace);
}

}  // namespace mlctl::oci::json_fields
