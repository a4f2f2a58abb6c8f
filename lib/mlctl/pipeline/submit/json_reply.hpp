#pragma once

// Internal to the submit clients: reading the JSON answers of API servers, which are data from
// another machine: a missing field reads as empty, and only a body that is not JSON fails.

#include <mlctl/core/error.hpp>

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>

namespace mlctl::pipeline::reply {

// The body as a JSON object; fails (remote) naming `what` ("the created workflow") otherwise.
Result<nlohmann::json> parse_object(std::string_view body, std::string_view what);

// A string member, or "" when absent or not a string.
std::string text(const nlohmann::json& object, std::string_view key);

// An object member, or an empty object when absent or not an object.
const nlohmann::json& object(const nlohmann::json& parent, std::string_view key);

}  // namespace mlctl::pipeline::reply
