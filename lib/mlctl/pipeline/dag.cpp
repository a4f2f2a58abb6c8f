#include <mlctl/pipeline/dag.hpp>

#include <mlctl/pipeline/template.hpp>

#include <algorithm>
#include <deque>
#include <functional>
#include <queue>
#include <unordered_map>

#include <fmt/format.h>

namespace mlctl::pipeline {

namespace {

void sort_unique(std::vector<size_t>& items) {
  std::ranges::sort(items);
  auto [first, last] = std::ranges::unique(items);
  items.erase(first, last);
}

// Kahn's algorithm with the earliest ready step first; returns fewer steps than the DAG has
// when there is a cycle.
std::vector<size_t> kahn_order(const Dag& dag) {
  std::vector<size_t> waiting(dag.names.size());
  std::priority_queue<size_t, std::vector<size_t>, std::greater<>> ready;
  for (size_t i = 0; i < dag.names.size(); ++i) {
    waiting[i] = dag.needs[i].size();
    if (waiting[i] == 0) ready.push(i);
  }
  std::vector<size_t> order;
  order.reserve(dag.names.size());
  while (!ready.empty()) {
    size_t step = ready.top();
    ready.pop();
    order.push_back(step);
    for (size_t next : dag.dependants[step])
      if (--waiting[next] == 0) ready.push(next);
  }
  return order;
}

// The shortest path from `start` back to itself through `allowed` steps, if there is one.
std::vector<size_t> shortest_cycle_through(const Dag& dag, size_t start, const std::vector<bool>& allowed) {
  std::vector<size_t> parent(dag.names.size(), dag.names.size());
  std::deque<size_t> queue{start};
  while (!queue.empty()) {
    size_t step = queue.front();
    queue.pop_front();
    for (size_t next : dag.dependants[step]) {
      if (!allowed[next]) continue;
      if (next == start) {
        std::vector<size_t> cycle{step};
        while (cycle.back() != start) cycle.push_back(parent[cycle.back()]);
        std::ranges::reverse(cycle);
        return cycle;
      }
      if (parent[next] != dag.names.size()) continue;
      parent[next] = step;
      queue.push_back(next);
    }
  }
  return {};
}

}  // namespace

Dag build_dag(const Pipeline& pipeline) {
  Dag dag;
  const size_t count = pipeline.steps.size();
  dag.needs.resize(count);
  dag.dependants.resize(count);
  std::unordered_map<std::string, size_t> index;
  for (size_t i = 0; i < count; ++i) {
    dag.names.push_back(pipeline.steps[i].name.value);
    index.emplace(pipeline.steps[i].name.value, i);
  }
  auto add = [&](size_t step, const std::string& needed) {
    auto it = index.find(needed);
    if (it != index.end() && it->second != step) dag.needs[step].push_back(it->second);
  };
  for (size_t i = 0; i < count; ++i) {
    const Step& step = pipeline.steps[i];
    for (const auto& need : step.needs) add(i, need.value);
    for (const auto& field : template_fields(step, i)) {
      auto parts = parse_template(field.text->value);
      if (!parts) continue;
      for (const auto& ref : references(*parts))
        if (ref.kind == RefKind::step_output) add(i, ref.step);
    }
    sort_unique(dag.needs[i]);
    for (size_t need : dag.needs[i]) dag.dependants[need].push_back(i);
  }
  // Dependants were added in ascending step order, so each list is already sorted and unique.
  return dag;
}

std::vector<std::vector<size_t>> find_cycles(const Dag& dag) {
  const size_t count = dag.names.size();
  std::vector<bool> stuck(count, true);  // steps Kahn's algorithm could not order: on or after a cycle
  for (size_t step : kahn_order(dag)) stuck[step] = false;
  std::vector<bool> covered(count, false);
  std::vector<std::vector<size_t>> cycles;
  for (size_t start = 0; start < count; ++start) {
    if (!stuck[start] || covered[start]) continue;
    auto cycle = shortest_cycle_through(dag, start, stuck);
    if (cycle.empty()) continue;  // downstream of a cycle, not on one
    for (size_t step : cycle) covered[step] = true;
    std::ranges::rotate(cycle, std::ranges::min_element(cycle));
    cycles.push_back(std::move(cycle));
  }
  return cycles;
}

std::string describe_cycle(const Dag& dag, const std::vector<size_t>& cycle) {
  std::vector<std::string> names = names_of(dag, cycle);
  if (!names.empty()) names.push_back(names.front());
  return fmt::format("{}", fmt::join(names, " -> "));
}

Result<std::vector<size_t>> topological_order(const Dag& dag) {
  auto order = kahn_order(dag);
  if (order.size() == dag.names.size()) return order;
  auto cycles = find_cycles(dag);
  return fail(Errc::invalid, fmt::format("cycle: {}", cycles.empty() ? "?" : describe_cycle(dag, cycles.front())));
}

std::vector<size_t> transitive_dependants(const Dag& dag, size_t step) {
  std::vector<bool> seen(dag.names.size(), false);
  std::vector<size_t> pending{step};
  std::vector<size_t> found;
  while (!pending.empty()) {
    size_t current = pending.back();
    pending.pop_back();
    for (size_t next : dag.dependants[current]) {
      if (seen[next] || next == step) continue;
      seen[next] = true;
      found.push_back(next);
      pending.push_back(next);
    }
  }
  std::ranges::sort(found);
  return found;
}

std::vector<std::string> names_of(const Dag& dag, const std::vector<size_t>& indices) {
  std::vector<std::string> names;
  for (size_t i : indices) names.push_back(dag.names[i]);
  return names;
}

}  // namespace mlctl::pipeline
