#include <mlctl/pipeline/dag.hpp>
#include <mlctl/pipeline/parse.hpp>

#include <gtest/gtest.h>

namespace mlctl::pipeline {
namespace {

using Strings = std::vector<std::string>;

Dag dag_of(std::string_view text) {
  ParsedPipeline parsed = parse_pipeline(text, "p.yaml");
  EXPECT_TRUE(parsed.problems.empty()) << parsed.problems.front().to_string();
  return build_dag(parsed.pipeline);
}

Strings order_of(const Dag& dag) {
  auto order = topological_order(dag);
  if (!order) return {"error: " + order.error().message()};
  return names_of(dag, *order);
}

std::vector<Strings> cycles_of(const Dag& dag) {
  std::vector<Strings> out;
  for (const auto& cycle : find_cycles(dag)) out.push_back(names_of(dag, cycle));
  return out;
}

// Written out of order on purpose: the order must come from the dependencies.
constexpr std::string_view k_diamond = R"(name: diamond
steps:
  - name: join
    command: [cat, "{{steps.left.outputs.x}}", "{{steps.right.outputs.x}}"]
  - name: right
    command: [echo, "{{steps.root.outputs.x}}"]
    outputs: [x]
  - name: left
    command: [echo]
    needs: [root]
    outputs: [x]
  - name: root
    command: [echo]
    outputs: [x]
)";

TEST(PipelineDagTest, DiamondDependenciesComeFromReferencesAndNeeds) {
  Dag dag = dag_of(k_diamond);
  EXPECT_EQ(dag.names, (Strings{"join", "right", "left", "root"}));
  EXPECT_EQ(dag.needs, (std::vector<std::vector<size_t>>{{1, 2}, {3}, {3}, {}}));
  EXPECT_EQ(dag.dependants, (std::vector<std::vector<size_t>>{{}, {0}, {0}, {1, 2}}));
}

TEST(PipelineDagTest, DiamondOrderPutsReadyStepsInFileOrder) {
  EXPECT_EQ(order_of(dag_of(k_diamond)), (Strings{"root", "right", "left", "join"}));
}

TEST(PipelineDagTest, IndependentStepsKeepFileOrder) {
  EXPECT_EQ(order_of(dag_of(R"(name: p
steps:
  - {name: c, command: [echo]}
  - {name: a, command: [echo]}
  - {name: b, command: [echo], needs: [c]}
  - {name: d, command: [echo]}
)")),
            (Strings{"c", "a", "b", "d"}));
}

TEST(PipelineDagTest, TransitiveDependantsAreListedInFileOrder) {
  Dag dag = dag_of(k_diamond);
  EXPECT_EQ(names_of(dag, transitive_dependants(dag, 3)), (Strings{"join", "right", "left"}));
  EXPECT_EQ(names_of(dag, transitive_dependants(dag, 1)), Strings{"join"});
  EXPECT_TRUE(transitive_dependants(dag, 0).empty());
}

TEST(PipelineDagTest, DependantsOfAFailedStepLeaveOtherBranchesAlone) {
  Dag dag = dag_of(R"(name: p
steps:
  - {name: a, command: [echo]}
  - {name: b, command: [echo], needs: [a]}
  - {name: c, command: [echo], needs: [b]}
  - {name: d, command: [echo]}
  - {name: e, command: [echo], needs: [d, c]}
  - {name: f, command: [echo], needs: [d]}
)");
  EXPECT_EQ(names_of(dag, transitive_dependants(dag, 1)), (Strings{"c", "e"}));
  EXPECT_EQ(names_of(dag, transitive_dependants(dag, 3)), (Strings{"e", "f"}));
}

TEST(PipelineDagTest, UnknownSelfAndRepeatedDependenciesAddNoEdge) {
  Dag dag = dag_of(R"(name: p
steps:
  - name: a
    command: [echo, "{{steps.a.outputs.x}}", "{{steps.nope.outputs.x}}", "{{steps.bad"]
    needs: [a, nope]
    outputs: [x]
  - name: b
    command: [echo, "{{steps.a.outputs.x}}", "{{steps.a.outputs.x}}"]
    needs: [a, a]
)");
  EXPECT_EQ(dag.needs, (std::vector<std::vector<size_t>>{{}, {0}}));
}

TEST(PipelineDagTest, CycleIsNamedFromItsEarliestStep) {
  Dag dag = dag_of(R"(name: p
steps:
  - {name: setup, command: [echo]}
  - {name: c, command: [echo], needs: [b]}
  - {name: a, command: [echo], needs: [c, setup]}
  - {name: b, command: [echo], needs: [a]}
  - {name: after, command: [echo], needs: [a]}
)");
  EXPECT_EQ(cycles_of(dag), (std::vector<Strings>{{"c", "a", "b"}}));
  EXPECT_EQ(describe_cycle(dag, find_cycles(dag).front()), "c -> a -> b -> c");
  EXPECT_EQ(order_of(dag), Strings{"error: cycle: c -> a -> b -> c"});
}

TEST(PipelineDagTest, CyclesSharingAStepAreEachReported) {
  Dag dag = dag_of(R"(name: p
steps:
  - {name: a, command: [echo], needs: [b, c]}
  - {name: b, command: [echo], needs: [a]}
  - {name: c, command: [echo], needs: [a]}
)");
  EXPECT_EQ(cycles_of(dag), (std::vector<Strings>{{"a", "b"}, {"a", "c"}}));
}

TEST(PipelineDagTest, AcyclicPipelineHasNoCycles) {
  EXPECT_TRUE(find_cycles(dag_of(k_diamond)).empty());
}

}  // namespace
}  // namespace mlctl::pipeline
