#include <mlctl/pipeline/template.hpp>

#include <optional>

#include <fmt/format.h>

namespace mlctl::pipeline {

namespace {

constexpr std::string_view k_forms = "params.NAME, outputs.NAME, steps.STEP.outputs.NAME, run.id or pipeline.name";

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

std::optional<std::string_view> after(std::string_view text, std::string_view prefix) {
  if (!text.starts_with(prefix)) return std::nullopt;
  return text.substr(prefix.size());
}

Result<Reference> parse_reference(std::string_view inner) {
  Reference ref;
  ref.text = std::string(inner);
  auto bad = [&](std::string_view expected) {
    return fail(Errc::invalid, fmt::format("'{{{{{}}}}}' is not a valid reference: expected {}", inner, expected));
  };
  if (auto name = after(inner, "params.")) {
    if (name->empty()) return bad("params.NAME");
    ref.kind = RefKind::param;
    ref.name = std::string(*name);
  } else if (auto name = after(inner, "outputs.")) {
    if (name->empty()) return bad("outputs.NAME");
    ref.kind = RefKind::output;
    ref.name = std::string(*name);
  } else if (auto rest = after(inner, "steps.")) {
    // The output name is the rest of the text, so KFP output names with spaces or dots work.
    auto dot = rest->find('.');
    if (dot == 0 || dot == std::string_view::npos) return bad("steps.STEP.outputs.NAME");
    auto name = after(rest->substr(dot + 1), "outputs.");
    if (!name || name->empty()) return bad("steps.STEP.outputs.NAME");
    ref.kind = RefKind::step_output;
    ref.step = std::string(rest->substr(0, dot));
    ref.name = std::string(*name);
  } else if (inner == "run.id") {
    ref.kind = RefKind::run_id;
  } else if (inner == "pipeline.name") {
    ref.kind = RefKind::pipeline_name;
  } else {
    return bad(k_forms);
  }
  return ref;
}

void append_literal(Template& parts, std::string_view text) {
  if (text.empty()) return;
  if (!parts.empty())
    if (auto* last = std::get_if<std::string>(&parts.back())) {
      *last += text;
      return;
    }
  parts.emplace_back(std::string(text));
}

}  // namespace

Result<Template> parse_template(std::string_view text) {
  Template parts;
  size_t i = 0;
  while (i < text.size()) {
    size_t open = text.find("{{", i);
    if (open == std::string_view::npos) {
      append_literal(parts, text.substr(i));
      break;
    }
    if (open > 0 && text[open - 1] == '\\') {
      append_literal(parts, text.substr(i, open - 1 - i));
      append_literal(parts, "{{");
      i = open + 2;
      continue;
    }
    append_literal(parts, text.substr(i, open - i));
    size_t close = text.find("}}", open + 2);
    if (close == std::string_view::npos)
      return fail(Errc::invalid, fmt::format("unterminated '{{{{' in '{}'", text),
                  "close the reference with '}}', or write '\\{{' for a literal '{{'");
    std::string_view inner = trim(text.substr(open + 2, close - open - 2));
    if (inner.empty()) return fail(Errc::invalid, fmt::format("empty reference '{{{{}}}}'; expected {}", k_forms));
    auto ref = parse_reference(inner);
    if (!ref) return std::unexpected(ref.error());
    parts.emplace_back(std::move(*ref));
    i = close + 2;
  }
  return parts;
}

Result<std::string> render(const Template& parts, const ReferenceValue& value) {
  std::string out;
  for (const auto& part : parts) {
    if (const auto* literal = std::get_if<std::string>(&part)) {
      out += *literal;
      continue;
    }
    auto resolved = value(std::get<Reference>(part));
    if (!resolved) return std::unexpected(resolved.error());
    out += *resolved;
  }
  return out;
}

std::vector<Reference> references(const Template& parts) {
  std::vector<Reference> out;
  for (const auto& part : parts)
    if (const auto* ref = std::get_if<Reference>(&part)) out.push_back(*ref);
  return out;
}

}  // namespace mlctl::pipeline
