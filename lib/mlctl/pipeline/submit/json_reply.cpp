#include <mlctl/pipeline/submit/json_reply.hpp>

#include <fmt/format.h>

namespace mlctl::pipeline::reply {

Result<nlohmann::json> parse_object(std::string_view body, std::string_view what) {
  auto json = nlohmann::json::parse(body, nullptr, false);
  if (json.is_discarded() || !json.is_object())
    return fail(Errc::remote, fmt::format("the server's answer for {} is not a JSON object", what));
  return json;
}

std::string text(const nlohmann::json& object, std::string_view key) {
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

const nlohmann::json& object(const nlohmann::json& parent, std::string_view key) {
  static const nlohmann::json k_empty = nlohmann::json::object();
  auto it = parent.find(key);
  return it != parent.end() && it->is_object() ? *it : k_empty;
}

}  // namespace mlctl::pipeline::reply
