#include <mlctl/core/yaml_tree.hpp>

#include <algorithm>
#include <map>
#include <sstream>

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/exceptions.h>
#include <yaml-cpp/parser.h>

#include <fmt/format.h>

namespace mlctl::core {

namespace {

const std::string k_empty;

}  // namespace

YamlType YamlNode::type() const { return data_ ? data_->type : YamlType::undefined; }

const std::string& YamlNode::scalar() const { return is_scalar() ? data_->scalar : k_empty; }

std::size_t YamlNode::size() const {
  if (is_sequence()) return data_->items.size();
  if (is_map()) return data_->entries.size();
  return 0;
}

YamlNode YamlNode::operator[](std::size_t index) const {
  if (!is_sequence() || index >= data_->items.size()) return {};
  return data_->items[index];
}

YamlNode YamlNode::operator[](std::string_view key) const {
  if (!is_map()) return {};
  for (const auto& entry : data_->entries)
    if (entry.key.is_scalar() && entry.key.scalar() == key) return entry.value;
  return {};
}

std::span<const YamlEntry> YamlNode::entries() const {
  if (!is_map()) return {};
  return data_->entries;
}

int YamlNode::line() const { return data_ ? data_->line : 0; }
int YamlNode::column() const { return data_ ? data_->column : 0; }

// Turns yaml-cpp's parser events into a YamlDocument.
class YamlBuilder final : public YAML::EventHandler {
public:
  explicit YamlBuilder(YamlDocument& document) : document_(document) {}

  void OnDocumentStart(const YAML::Mark&) override {}
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark& mark, YAML::anchor_t anchor) override { add(make(YamlType::null, mark, anchor), mark); }
  void OnAlias(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    auto it = anchors_.find(anchor);
    // yaml-cpp allows an alias inside the node it names (`&a [*a]`); that cycle would make every
    // walk of the tree recurse until the stack overflows.
    if (it != anchors_.end() &&
        std::ranges::any_of(open_, [&](const Open& o) { return o.node.data_ == it->second.data_; }))
      throw YAML::ParserException(mark, "an alias refers to the node that contains it");
    add(it == anchors_.end() ? YamlNode() : it->second, mark);
  }
  void OnScalar(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor, const std::string& value) override {
    YamlNode node = make(YamlType::scalar, mark, anchor);
    data(node).scalar = value;
    add(node, mark);
  }
  void OnSequenceStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                       YAML::EmitterStyle::value) override {
    open(make(YamlType::sequence, mark, anchor), mark);
  }
  void OnSequenceEnd() override { close(); }
  void OnMapStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor, YAML::EmitterStyle::value) override {
    open(make(YamlType::map, mark, anchor), mark);
  }
  void OnMapEnd() override { close(); }

private:
  struct Open {
    YamlNode node;
    YamlNode key;  // a map's key waiting for its value
    bool has_key = false;
    YAML::Mark mark;  // where it starts
  };

  detail::YamlData& data(YamlNode node) { return const_cast<detail::YamlData&>(*node.data_); }

  YamlNode make(YamlType type, const YAML::Mark& mark, YAML::anchor_t anchor) {
    detail::YamlData& made = document_.nodes_->emplace_back();
    made.type = type;
    if (!mark.is_null() && mark.line >= 0) {
      made.line = mark.line + 1;
      made.column = mark.column + 1;
    }
    YamlNode node(&made);
    if (anchor != YAML::NullAnchor) anchors_[anchor] = node;
    return node;
  }

  void add(YamlNode node, const YAML::Mark& mark) {
    if (open_.empty()) {
      if (!document_.root_.is_defined()) document_.root_ = node;
      return;
    }
    Open& parent = open_.back();
    detail::YamlData& into = data(parent.node);
    // Each container counts the nodes it stands for as its items come in, aliases in full, so
    // that aliases nested to double at each level are refused before anything walks them.
    into.expanded += node.is_defined() ? node.data_->expanded : 1;
    if (into.expanded > YamlDocument::k_max_expanded_nodes)
      throw YAML::ParserException(mark, fmt::format("aliases expand this document to more than {} nodes",
                                                    YamlDocument::k_max_expanded_nodes));
    if (into.type == YamlType::sequence) {
      into.items.push_back(node);
    } else if (!parent.has_key) {
      parent.key = node;
      parent.has_key = true;
    } else {
      into.entries.push_back({parent.key, node});
      parent.has_key = false;
    }
  }

  void open(YamlNode node, const YAML::Mark& mark) { open_.push_back({node, {}, false, mark}); }

  void close() {
    Open done = open_.back();
    open_.pop_back();
    add(done.node, done.mark);
  }

  YamlDocument& document_;
  std::vector<Open> open_;
  std::map<YAML::anchor_t, YamlNode> anchors_;
};

std::expected<YamlDocument, YamlSyntaxError> YamlDocument::parse(std::string_view text) {
  YamlDocument document;
  std::istringstream in{std::string(text)};
  try {
    YAML::Parser parser(in);
    YamlBuilder builder(document);
    parser.HandleNextDocument(builder);
  } catch (const YAML::Exception& e) {
    return std::unexpected(YamlSyntaxError{e.mark.line + 1, e.mark.column + 1, e.msg});
  }
  return document;
}

namespace {

bool plain(std::string_view text) {
  if (text.empty() || text.front() == ' ' || text.back() == ' ') return false;
  if (std::string_view("-?:,[]{}#&*!|>'\"%@`").find(text.front()) != std::string_view::npos) return false;
  return text.find(": ") == std::string_view::npos && text.find(" #") == std::string_view::npos &&
         text.find_first_of(",[]{}\n\t") == std::string_view::npos && !text.ends_with(':');
}

std::string quoted(std::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      default: out += c;
    }
  }
  return out + "\"";
}

}  // namespace

std::string to_flow_yaml(const YamlNode& node) {
  switch (node.type()) {
    case YamlType::undefined:
    case YamlType::null: return "~";
    case YamlType::scalar: return plain(node.scalar()) ? node.scalar() : quoted(node.scalar());
    case YamlType::sequence: {
      std::vector<std::string> items;
      for (std::size_t i = 0; i < node.size(); ++i) items.push_back(to_flow_yaml(node[i]));
      return fmt::format("[{}]", fmt::join(items, ", "));
    }
    case YamlType::map: {
      std::vector<std::string> entries;
      for (const auto& entry : node.entries())
        entries.push_back(fmt::format("{}: {}", to_flow_yaml(entry.key), to_flow_yaml(entry.value)));
      return fmt::format("{{{}}}", fmt::join(entries, ", "));
    }
  }
  return "~";
}

}  // namespace mlctl::core
