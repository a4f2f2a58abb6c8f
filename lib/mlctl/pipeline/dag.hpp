#pragma once

#include <mlctl/core/error.hpp>
#include <mlctl/pipeline/spec.hpp>

#include <string>
#include <vector>

namespace mlctl::pipeline {

// The steps of a pipeline and what each needs. Steps are named by their index in file order.
struct Dag {
  std::vector<std::string> names;               // step names, in file order
  std::vector<std::vector<size_t>> needs;       // each step's direct dependencies, ascending
  std::vector<std::vector<size_t>> dependants;  // the steps that directly need each step, ascending
};

// A step depends on the steps it names in `needs` and on those whose outputs it references
// ({{steps.S.outputs.X}}). Unknown names, a step naming itself and malformed references add no
// edge: validate() reports them. With duplicate names, a reference means the first such step.
Dag build_dag(const Pipeline& pipeline);

// Every cycle, each once, as the steps along it starting at its earliest step in file order;
// an arrow a -> b means b needs a. Empty for a valid pipeline.
std::vector<std::vector<size_t>> find_cycles(const Dag& dag);

// "a -> b -> c -> a" for the cycle {a, b, c}.
std::string describe_cycle(const Dag& dag, const std::vector<size_t>& cycle);

// An order in which every step comes after what it needs; among the steps that are ready,
// the earliest in the file goes first. Fails (invalid) on a cycle, naming it.
Result<std::vector<size_t>> topological_order(const Dag& dag);

// Every step that needs `step` directly or through others, in file order: what a failure
// of `step` leaves unable to run.
std::vector<size_t> transitive_dependants(const Dag& dag, size_t step);

// The names of the steps at `indices`.
std::vector<std::string> names_of(const Dag& dag, const std::vector<size_t>& indices);

}  // namespace mlctl::pipeline
