#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <expected>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace mlctl::core {

enum class YamlType { undefined, null, scalar, sequence, map };

namespace detail {
struct YamlData;
}

struct YamlEntry;

// A node of a parsed YAML document: a handle that is cheap to copy and valid while its
// YamlDocument lives. A node that is not there (a missing key, an index past the end) is
// undefined rather than an error, so lookups chain: root["image"]["python"].
class YamlNode {
public:
  YamlNode() = default;

  YamlType type() const;
  bool is_defined() const { return data_ != nullptr; }
  bool is_null() const { return type() == YamlType::null; }
  bool is_scalar() const { return type() == YamlType::scalar; }
  bool is_sequence() const { return type() == YamlType::sequence; }
  bool is_map() const { return type() == YamlType::map; }

  // A scalar's text as written (without quotes); empty for anything else.
  const std::string& scalar() const;
  // The items of a sequence or the entries of a map; 0 for anything else.
  std::size_t size() const;
  // A sequence's item; undefined past the end or when this is not a sequence.
  YamlNode operator[](std::size_t index) const;
  // The value of the first entry of a map with this (scalar) key; undefined when there is none.
  YamlNode operator[](std::string_view key) const;
  // A map's entries in file order, duplicates kept; empty for anything else.
  std::span<const YamlEntry> entries() const;

  // 1-based; 0 for an undefined node.
  int line() const;
  int column() const;

private:
  friend class YamlBuilder;
  explicit YamlNode(const detail::YamlData* data) : data_(data) {}

  const detail::YamlData* data_ = nullptr;
};

struct YamlEntry {
  YamlNode key;
  YamlNode value;
};

namespace detail {
struct YamlData {
  YamlType type = YamlType::null;
  int line = 0;
  int column = 0;
  std::string scalar;
  std::vector<YamlNode> items;
  std::vector<YamlEntry> entries;
  std::uint64_t expanded = 1;  // how many nodes this one stands for with every alias expanded
};
}  // namespace detail

struct YamlSyntaxError {
  int line = 0;    // 1-based
  int column = 0;  // 1-based
  std::string message;
};

// A parsed YAML document (its first one, as YAML::Load reads it), which owns its nodes. It is
// built from yaml-cpp's parser events straight into one arena, without yaml-cpp's node graph,
// which costs three times the parse itself on large files (a 10,000-step pipeline). Aliases
// share the anchored node; plain `~`, `null` and empty values are null, as in yaml-cpp. Aliases
// cannot make a cycle (an alias inside the node it names) or a document that stands for more than
// k_max_expanded_nodes nodes once expanded (nested aliases that double at each level): every
// walk of the tree would then never end. Both are syntax errors.
class YamlDocument {
public:
  static constexpr std::uint64_t k_max_expanded_nodes = 10'000'000;

  static std::expected<YamlDocument, YamlSyntaxError> parse(std::string_view text);

  // Undefined for an empty document.
  YamlNode root() const { return root_; }

private:
  friend class YamlBuilder;
  YamlDocument() : nodes_(std::make_unique<std::deque<detail::YamlData>>()) {}

  std::unique_ptr<std::deque<detail::YamlData>> nodes_;  // stable addresses for the handles
  YamlNode root_;
};

// A node as one line of flow YAML ({GcsPath: {data_type: TSV}}, [a, b]), for messages and for
// values that are kept as text; scalars that would not read back as plain text are double-quoted.
std::string to_flow_yaml(const YamlNode& node);

}  // namespace mlctl::core
