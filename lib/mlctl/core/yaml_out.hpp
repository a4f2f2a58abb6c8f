#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace mlctl::core {

// Writes a JSON document as block-style YAML that any YAML 1.1 or 1.2 reader loads back to the
// same JSON (strings that would read as numbers, booleans, null or dates are quoted). Keys keep
// the document's order, so the same document always gives the same bytes. Multi-line strings
// are literal blocks (|), as KFP's compiler writes shell scripts.
std::string to_yaml(const nlohmann::json& document);

}  // namespace mlctl::core
