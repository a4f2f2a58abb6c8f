#include <mlctl/pipeline/local/graph.hpp>

#include <mlctl/pipeline/dag.hpp>

#include <array>
#include <optional>
#include <utility>
#include <vector>

#include <fmt/format.h>

namespace mlctl::pipeline {

namespace {

constexpr std::array<std::pair<StepStatus, std::string_view>, 5> k_colours{{
    {StepStatus::succeeded, "#b7e4c7"},
    {StepStatus::cached, "#a9d6e5"},
    {StepStatus::failed, "#f4a3a8"},
    {StepStatus::skipped, "#e9ecef"},
    {StepStatus::cancelled, "#ffd59e"},
}};

size_t colour_index(StepStatus status) {
  for (size_t i = 0; i < k_colours.size(); ++i)
    if (k_colours[i].first == status) return i;
  return 0;
}

std::string_view colour_of(StepStatus status) { return k_colours[colour_index(status)].second; }

std::optional<StepStatus> status_of(const RunRecord* run, const std::string& step) {
  if (!run) return std::nullopt;
  const StepRecord* record = run->find_step(step);
  if (!record) return std::nullopt;
  return record->status;
}

std::string dot_escape(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}

std::string dot_quote(std::string_view text) { return "\"" + dot_escape(text) + "\""; }

std::string mermaid_label(std::string_view text) {
  std::string out;
  for (char c : text) out += c == '"' ? std::string("#quot;") : std::string(1, c);
  return out;
}

std::string render_dot(const Pipeline& pipeline, const Dag& dag, const RunRecord* run) {
  std::string out = fmt::format("digraph {} {{\n", dot_quote(pipeline.name.value));
  out += "  rankdir=LR;\n";
  out += "  node [shape=box, style=\"rounded,filled\", fillcolor=\"#ffffff\"];\n";
  for (const auto& name : dag.names) {
    if (auto status = status_of(run, name))
      out += fmt::format("  {} [label=\"{}\\n({})\", fillcolor=\"{}\"];\n", dot_quote(name), dot_escape(name),
                         status_name(*status), colour_of(*status));
    else
      out += fmt::format("  {};\n", dot_quote(name));
  }
  for (size_t from = 0; from < dag.names.size(); ++from)
    for (size_t to : dag.dependants[from])
      out += fmt::format("  {} -> {};\n", dot_quote(dag.names[from]), dot_quote(dag.names[to]));
  return out + "}\n";
}

// Nodes get ids s0, s1... so that step names never clash with Mermaid's syntax ("end").
std::string render_mermaid(const Dag& dag, const RunRecord* run) {
  std::string out = "flowchart LR\n";
  std::vector<std::vector<std::string>> by_status(k_colours.size());
  for (size_t i = 0; i < dag.names.size(); ++i) {
    auto status = status_of(run, dag.names[i]);
    std::string label = status ? fmt::format("{} ({})", dag.names[i], status_name(*status)) : dag.names[i];
    out += fmt::format("  s{}[\"{}\"]\n", i, mermaid_label(label));
    if (status) by_status[colour_index(*status)].push_back(fmt::format("s{}", i));
  }
  for (size_t from = 0; from < dag.names.size(); ++from)
    for (size_t to : dag.dependants[from]) out += fmt::format("  s{} --> s{}\n", from, to);
  for (size_t s = 0; s < k_colours.size(); ++s) {
    if (by_status[s].empty()) continue;
    auto [status, colour] = k_colours[s];
    out += fmt::format("  classDef {} fill:{}\n", status_name(status), colour);
    out += fmt::format("  class {} {}\n", fmt::join(by_status[s], ","), status_name(status));
  }
  return out;
}

}  // namespace

Result<GraphFormat> parse_graph_format(std::string_view text) {
  if (text == "dot") return GraphFormat::dot;
  if (text == "mermaid") return GraphFormat::mermaid;
  return fail(Errc::invalid, fmt::format("unknown graph format '{}'", text), "use dot or mermaid");
}

std::string render_graph(const Pipeline& pipeline, const RunRecord* run, GraphFormat format) {
  Dag dag = build_dag(pipeline);
  return format == GraphFormat::dot ? render_dot(pipeline, dag, run) : render_mermaid(dag, run);
}

}  // namespace mlctl::pipeline
