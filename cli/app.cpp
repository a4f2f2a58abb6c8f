#include "app.hpp"

#include "context.hpp"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <iostream>

#include <fmt/format.h>

namespace mlctl::cli {

namespace {

constexpr const char* k_footer = R"(Exit codes: 0 ok, 1 failed, 2 usage or invalid input, 3 not found,
4 precondition failed, 5 remote error. See mlctl(1) and mlctl-<command>(1).)";

void add_globals(CLI::App& app, Globals& globals) {
  app.add_option("-C", globals.chdir, "Run as if mlctl was started in DIR")->option_text("DIR");
  app.add_option("--config", globals.config, "The project file (default: mlctl.yaml here or in a parent folder)")
      ->option_text("FILE");
  app.add_option("-o,--output", globals.output, "Output format: text, or json (one JSON document on stdout)")
      ->check(CLI::IsMember({"text", "json"}))
      ->option_text("text|json");
  app.add_flag("-v,--verbose", globals.verbose, "Print more detail (repeat for more)");
  app.add_flag("-q,--quiet", globals.quiet, "Print only results and errors");
  app.add_flag("--no-color", globals.no_color, "No colour in output (also when NO_COLOR is set)");
  app.add_option("--progress", globals.progress,
                 "Progress display: auto (a bar on a terminal, plain lines otherwise), plain, none")
      ->check(CLI::IsMember({"auto", "plain", "none"}))
      ->option_text("auto|plain|none");
  app.set_version_flag("--version", version_line, "Print the version of mlctl (as 'mlctl version') and exit");
}

CLI::App* chosen_command(CLI::App& app) {
  CLI::App* leaf = &app;
  while (!leaf->get_subcommands().empty()) leaf = leaf->get_subcommands().front();
  return leaf;
}

std::string command_path(const CLI::App* command) {
  std::string path;
  for (const CLI::App* at = command; at; at = at->get_parent())
    path = path.empty() ? at->get_name() : at->get_name() + " " + path;
  return path;
}

void report(const Context& context, const Error& error) {
  context.print_error(error.message(), error.hint());
  if (context.json()) {
    nlohmann::json document = {{"error",
                                {{"code", errc_name(error.code())},
                                 {"exit_code", static_cast<int>(error.code())},
                                 {"message", error.message()}}}};
    if (!error.hint().empty()) document["error"]["hint"] = error.hint();
    std::cout << document.dump(2) << '\n' << std::flush;
  }
}

// Every command, in the order of `mlctl --help`.
constexpr std::pair<std::string_view, void (*)(CLI::App&)> k_commands[] = {
    {"init", add_init},         {"build", add_build},       {"model", add_model},
    {"pipeline", add_pipeline}, {"deploy", add_deploy},     {"rollout", add_rollout},
    {"serve", add_serve},       {"hook", add_hook},         {"release", add_release},
    {"validate", add_validate}, {"version", add_version},   {"completion", add_completion}};

// The command word of the command line: the first argument that is neither a global option nor
// its value (see add_globals).
std::string_view command_word(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "-C" || arg == "--config" || arg == "-o" || arg == "--output" || arg == "--progress") ++i;
    else if (arg == "--") return {};
    else if (!arg.starts_with('-')) return arg;
  }
  return {};
}

// Adds the command being run, or every command when the line names none or one that is not
// there (for the top-level help and the parser's own errors) or asks for a completion script.
// Building only the one saves about 2 ms of each start (issue 6: CLI11 builds every option).
void add_commands(CLI::App& app, int argc, char** argv) {
  std::string_view word = command_word(argc, argv);
  for (const auto& [name, add] : k_commands) {
    if (name == word && name != "completion") return add(app);
  }
  for (const auto& [name, add] : k_commands) add(app);
}

}  // namespace

int run(int argc, char** argv) {
  CLI::App app("mlctl: from git merge to a reproducible image, a registered model and reviewed "
               "Kubernetes manifests: no Dockerfile, no daemon, no server.",
               "mlctl");
  app.fallthrough();
  app.require_subcommand(0, 1);
  app.footer(k_footer);
  Globals globals;
  add_globals(app, globals);
  add_commands(app, argc, argv);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);
    Context context(globals);
    report(context, Error(Errc::invalid, e.what(), "run 'mlctl --help' for usage"));
    return static_cast<int>(Errc::invalid);
  }

  CLI::App* command = chosen_command(app);
  const Action* action = action_for(command);
  Context context(globals);
  if (!action) {
    std::cerr << command->help();
    report(context, Error(Errc::invalid, fmt::format("'{}' needs a command", command_path(command)),
                          fmt::format("run '{} --help' to see the commands", command_path(command))));
    return static_cast<int>(Errc::invalid);
  }
  try {
    if (!globals.chdir.empty()) {
      std::error_code ec;
      std::filesystem::current_path(globals.chdir, ec);
      if (ec) throw Fatal{Error(Errc::not_found, fmt::format("-C {}: {}", globals.chdir, ec.message()))};
    }
    (*action)(context);
    return 0;
  } catch (const Fatal& fatal) {
    report(context, fatal.error);
    return static_cast<int>(fatal.error.code());
  } catch (const Exit& exit) {
    return exit.code;
  }
}

}  // namespace mlctl::cli
