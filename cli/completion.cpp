#include "completion.hpp"

#include <functional>

#include <fmt/format.h>

namespace mlctl::cli {

namespace {

std::vector<std::string> split_choices(const std::string& text) {
  std::vector<std::string> out;
  if (text.find('|') == std::string::npos || text.find(' ') != std::string::npos) return out;
  size_t start = 0;
  for (size_t bar = text.find('|'); ; bar = text.find('|', start)) {
    out.push_back(text.substr(start, bar - start));
    if (bar == std::string::npos) break;
    start = bar + 1;
  }
  return out;
}

CompletionCommand describe(const CLI::App& app, std::vector<std::string> path) {
  CompletionCommand command{path, app.get_description(), {}, {}, {}};
  for (const CLI::Option* option : app.get_options()) {
    auto choices = split_choices(option->get_option_text());
    if (option->get_positional()) {
      command.positional_choices.insert(command.positional_choices.end(), choices.begin(), choices.end());
      continue;
    }
    CompletionOption described;
    for (const auto& name : option->get_snames()) described.names.push_back("-" + name);
    for (const auto& name : option->get_lnames()) described.names.push_back("--" + name);
    described.description = option->get_description();
    described.takes_value = option->get_type_size() != 0;
    described.choices = std::move(choices);
    const std::string& text = option->get_option_text();
    if (text == "FILE") described.value_kind = "file";
    if (text == "DIR") described.value_kind = "dir";
    command.options.push_back(std::move(described));
  }
  for (const CLI::App* child : app.get_subcommands([](const CLI::App*) { return true; })) {
    auto child_path = path;
    child_path.push_back(child->get_name());
    command.children.push_back(describe(*child, std::move(child_path)));
  }
  return command;
}

void walk(const CompletionCommand& command, const std::function<void(const CompletionCommand&)>& visit) {
  visit(command);
  for (const auto& child : command.children) walk(child, visit);
}

std::string joined_path(const CompletionCommand& command) { return fmt::format("{}", fmt::join(command.path, " ")); }

std::vector<std::string> child_names(const CompletionCommand& command) {
  std::vector<std::string> names;
  for (const auto& child : command.children) names.push_back(child.path.back());
  return names;
}

// A command's own options, then the global ones, which apply to every command.
std::vector<const CompletionOption*> visible_options(const CompletionCommand& command, const CompletionCommand& root) {
  std::vector<const CompletionOption*> out;
  for (const auto& option : command.options) out.push_back(&option);
  if (&command != &root)
    for (const auto& option : root.options) out.push_back(&option);
  return out;
}

std::string shell_quote(const std::string& text) {
  std::string out = "'";
  for (char c : text) out += (c == '\'') ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

// The case arms that turn the words typed so far into a command path, shared by bash and zsh.
std::string path_arms(const CompletionCommand& root) {
  std::string arms;
  walk(root, [&](const CompletionCommand& command) {
    for (const auto& child : command.children)
      arms += fmt::format("      {}) path={} ;;\n", shell_quote(joined_path(command) + ":" + child.path.back()),
                          shell_quote(joined_path(child)));
  });
  return arms;
}

// Case arms completing the value after an option that takes one, for every command.
template <typename Render>
std::string value_arms(const CompletionCommand& root, Render render) {
  std::string arms;
  walk(root, [&](const CompletionCommand& command) {
    for (const auto& option : command.options) {
      if (!option.takes_value) continue;
      arms += fmt::format("    {}) {}; return ;;\n", fmt::join(option.names, "|"), render(option));
    }
  });
  return arms;
}

}  // namespace

CompletionCommand completion_model(const CLI::App& app) { return describe(app, {}); }

std::string bash_completion(const CompletionCommand& root) {
  std::string commands;
  walk(root, [&](const CompletionCommand& command) {
    auto words = child_names(command);
    words.insert(words.end(), command.positional_choices.begin(), command.positional_choices.end());
    std::vector<std::string> names;
    for (const auto* option : visible_options(command, root))
      names.insert(names.end(), option->names.begin(), option->names.end());
    commands += fmt::format("    {}) words={}; opts={} ;;\n", shell_quote(joined_path(command)),
                            shell_quote(fmt::format("{}", fmt::join(words, " "))),
                            shell_quote(fmt::format("{}", fmt::join(names, " "))));
  });
  auto values = value_arms(root, [](const CompletionOption& option) {
    if (!option.choices.empty())
      return fmt::format("COMPREPLY=($(compgen -W {} -- \"$cur\"))", shell_quote(fmt::format("{}", fmt::join(option.choices, " "))));
    if (option.value_kind == "dir") return std::string("COMPREPLY=($(compgen -d -- \"$cur\"))");
    if (option.value_kind == "file") return std::string("COMPREPLY=($(compgen -f -- \"$cur\"))");
    return std::string("COMPREPLY=()");
  });
  return fmt::format(R"(# bash completion for mlctl; generated by `mlctl completion bash`.
# Load it with: source <(mlctl completion bash)
_mlctl() {{
  local cur="${{COMP_WORDS[COMP_CWORD]}}" prev="${{COMP_WORDS[COMP_CWORD-1]}}"
  local path="" word i words opts
  for ((i = 1; i < COMP_CWORD; i++)); do
    word="${{COMP_WORDS[i]}}"
    case "$path:$word" in
{}    esac
  done
  case "$prev" in
{}  esac
  case "$path" in
{}  esac
  if [[ "$cur" == -* ]]; then
    COMPREPLY=($(compgen -W "$opts" -- "$cur"))
  else
    COMPREPLY=($(compgen -W "$words" -- "$cur"))
  fi
}}
complete -o default -F _mlctl mlctl
)",
                     path_arms(root), values, commands);
}

std::string zsh_completion(const CompletionCommand& root) {
  auto described = [](const std::string& name, const std::string& text) {
    std::string escaped;
    for (char c : name + ":" + text) {
      if (c == '\'') escaped += "'\\''";
      else escaped += c;
    }
    return "'" + escaped + "'";
  };
  std::string commands;
  walk(root, [&](const CompletionCommand& command) {
    std::vector<std::string> words, options;
    for (const auto& child : command.children) words.push_back(described(child.path.back(), child.description));
    for (const auto& choice : command.positional_choices) words.push_back(described(choice, ""));
    for (const auto* option : visible_options(command, root))
      for (const auto& name : option->names) options.push_back(described(name, option->description));
    commands += fmt::format("    {}) cands=({}); opts=({}) ;;\n", shell_quote(joined_path(command)),
                            fmt::join(words, " "), fmt::join(options, " "));
  });
  auto values = value_arms(root, [](const CompletionOption& option) {
    if (!option.choices.empty()) return fmt::format("compadd -- {}", fmt::join(option.choices, " "));
    if (option.value_kind == "dir") return std::string("_files -/");
    if (option.value_kind == "file") return std::string("_files");
    return std::string("_message value");
  });
  return fmt::format(R"(#compdef mlctl
# zsh completion for mlctl; generated by `mlctl completion zsh`.
# Load it with: source <(mlctl completion zsh)
_mlctl() {{
  local path="" word i
  local -a cands opts
  for ((i = 2; i < CURRENT; i++)); do
    word="${{words[i]}}"
    case "$path:$word" in
{}    esac
  done
  case "${{words[CURRENT-1]}}" in
{}  esac
  case "$path" in
{}  esac
  if [[ "${{PREFIX}}" == -* ]]; then
    _describe -t options option opts
  else
    _describe -t commands command cands
  fi
}}
if [[ "${{zsh_eval_context[-1]}}" == loadautofunc ]]; then
  _mlctl "$@"
else
  compdef _mlctl mlctl
fi
)",
                     path_arms(root), values, commands);
}

std::string fish_completion(const CompletionCommand& root) {
  std::string out = "# fish completion for mlctl; generated by `mlctl completion fish`.\n"
                    "# Load it with: mlctl completion fish | source\n"
                    "complete -c mlctl -f\n";
  auto condition = [](const CompletionCommand& command) {
    if (command.path.empty()) return std::string("__fish_use_subcommand");
    std::string seen = fmt::format("__fish_seen_subcommand_from {}", command.path.back());
    auto children = child_names(command);
    if (children.empty()) return seen;
    return fmt::format("{}; and not __fish_seen_subcommand_from {}", seen, fmt::join(children, " "));
  };
  walk(root, [&](const CompletionCommand& command) {
    std::string when = condition(command);
    for (const auto& child : command.children)
      out += fmt::format("complete -c mlctl -n {} -a {} -d {}\n", shell_quote(when), child.path.back(),
                         shell_quote(child.description));
    if (!command.positional_choices.empty())
      out += fmt::format("complete -c mlctl -n {} -a {}\n", shell_quote(when),
                         shell_quote(fmt::format("{}", fmt::join(command.positional_choices, " "))));
    for (const auto& option : command.options) {
      std::string line = "complete -c mlctl";
      if (!command.path.empty()) line += fmt::format(" -n {}", shell_quote("__fish_seen_subcommand_from " + command.path.back()));
      for (const auto& name : option.names) line += name.starts_with("--") ? " -l " + name.substr(2) : " -s " + name.substr(1);
      if (option.takes_value) line += option.value_kind.empty() ? " -x" : " -r -F";
      if (!option.choices.empty()) line += fmt::format(" -a {}", shell_quote(fmt::format("{}", fmt::join(option.choices, " "))));
      out += line + fmt::format(" -d {}\n", shell_quote(option.description));
    }
  });
  return out;
}

}  // namespace mlctl::cli
