#pragma once

#include <mlctl/core/error.hpp>
#include <mlctl/pipeline/local/run_record.hpp>
#include <mlctl/pipeline/spec.hpp>

#include <string>
#include <string_view>

namespace mlctl::pipeline {

enum class GraphFormat { dot, mermaid };

// "dot" or "mermaid"; anything else fails (invalid).
Result<GraphFormat> parse_graph_format(std::string_view text);

// The pipeline's DAG as Graphviz DOT or a Mermaid flowchart, left to right: steps in file order,
// then the edges (from a step to what needs it) in file order. With a run, each step's label
// carries its status and its colour shows it. The same input always gives the same text.
std::string render_graph(const Pipeline& pipeline, const RunRecord* run, GraphFormat format);

}  // namespace mlctl::pipeline
