#pragma once

#include <string>
#include <vector>

#include <CLI/CLI.hpp>

namespace mlctl::cli {

// What a shell needs to complete one command: its words, options and their values.
struct CompletionOption {
  std::vector<std::string> names;    // "-o", "--output"
  std::string description;
  bool takes_value = false;
  std::vector<std::string> choices;  // from an option text of the form "a|b|c"
  std::string value_kind;            // "file", "dir", or empty
};

struct CompletionCommand {
  std::vector<std::string> path;  // {"model", "register"}; empty for mlctl itself
  std::string description;
  std::vector<CompletionCommand> children;
  std::vector<CompletionOption> options;  // the command's own options; the root's apply everywhere
  std::vector<std::string> positional_choices;
};

CompletionCommand completion_model(const CLI::App& app);

std::string bash_completion(const CompletionCommand& root);
std::string zsh_completion(const CompletionCommand& root);
std::string fish_completion(const CompletionCommand& root);

}  // namespace mlctl::cli
