#include "completion.hpp"
#include "context.hpp"

#include <iostream>

namespace mlctl::cli {

void add_completion(CLI::App& app) {
  auto shell = std::make_shared<std::string>();
  CLI::App* command = app.add_subcommand("completion", "Print a shell completion script");
  command->add_option("shell", *shell, "The shell")
      ->required()
      ->check(CLI::IsMember({"bash", "zsh", "fish"}))
      ->option_text("bash|zsh|fish");
  command->footer(R"(Examples:
  source <(mlctl completion bash)                      # this shell only
  mlctl completion bash > /etc/bash_completion.d/mlctl
  mlctl completion zsh > "${fpath[1]}/_mlctl"
  mlctl completion fish > ~/.config/fish/completions/mlctl.fish)");
  const CLI::App* root = &app;
  on_run(command, [shell, root](Context&) {
    auto model = completion_model(*root);
    if (*shell == "bash") std::cout << bash_completion(model);
    if (*shell == "zsh") std::cout << zsh_completion(model);
    if (*shell == "fish") std::cout << fish_completion(model);
  });
}

}  // namespace mlctl::cli
