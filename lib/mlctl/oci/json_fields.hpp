#pragma once

// Internal to mlctl::oci: reading and writing the JSON of the image model with nlohmann-json.
// Readers throw FieldError, which parse_document turns into an Error, so that nothing throws
// out of this module.

#include <mlctl/core/error.hpp>
#include <mlctl/oci/descriptor.hpp>

#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace mlctl::oci::json_fields {

using Json = nlohmann::json;

struct FieldError {
  std::string message;  // "layers[0].digest: expected a string"
};

// A member of `object`, or nullptr when absent or null (Docker writes null for empty fields).
const Json* member(const Json& object, std::string_view key, std::string_view where);

std::string required_string(const Json& object, std::string_view key, std::string_view where);
std::string optional_string(const Json& object, std::string_view key, std::string_view where);
std::int64_t required_int(const Json& object, std::string_view key, std::string_view where);
std::vector<std::string> string_list(const Json& object, std::string_view key, std::string_view where);
std::map<std::string, std::string> string_map(const Json& object, std::string_view key,
                                              std::string_view where);
// The keys of an object whose values are empty objects (ExposedPorts, Volumes).
std::set<std::string> key_set(const Json& object, std::string_view key, std::string_view where);

// "where.key", or "key" at the top level.
std::string field_path(std::string_view where, std::string_view key);

Descriptor descriptor_from(const Json& object, std::string_view where);
Json descriptor_json(const Descriptor& descriptor);

// Adds `key` to `object` only when the value is not empty.
void put_if(Json& object, std::string_view key, const std::string& value);
void put_if(Json& object, std::string_view key, const std::map<std::string, std::string>& value);
void put_if(Json& object, std::string_view key, const std::vector<std::string>& value);

// Compact, sorted keys (nlohmann's object is an ordered std::map); invalid UTF-8 is replaced
// rather than thrown.
std::string canonical(const Json& value);

// Parses `text` as a JSON object and reads it with `read`; any failure becomes Errc::invalid
// prefixed with `what` ("manifest: layers[0].size: expected an integer").
template <typename T, typename Read>
Result<T> parse_document(std::string_view text, std::string_view what, Read read) {
  try {
    Json document = Json::parse(text);
    if (!document.is_object()) return fail(Errc::invalid, std::string(what) + ": expected a JSON object");
    return read(document);
  } catch (const FieldError& error) {
    return fail(Errc::invalid, std::string(what) + ": " + error.message);
  } catch (const Json::exception& error) {
    return fail(Errc::invalid, std::string(what) + ": not valid JSON: " + error.what());
  }
}

}  // namespace mlctl::oci::json_fields
