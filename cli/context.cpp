#include "context.hpp"

#include "terminal_reporter.hpp"

#include <unistd.h>

#include <cstdlib>
#include <iostream>
#include <map>

#include <fmt/format.h>

namespace mlctl::cli {

namespace {

std::map<const CLI::App*, Action>& actions() {
  static std::map<const CLI::App*, Action> registry;
  return registry;
}

Verbosity verbosity(const Globals& globals) {
  if (globals.quiet) return Verbosity::quiet;
  return globals.verbose > 0 ? Verbosity::verbose : Verbosity::normal;
}

}  // namespace

void on_run(CLI::App* command, Action action) { actions()[command] = std::move(action); }

const Action* action_for(const CLI::App* command) {
  auto it = actions().find(command);
  return it == actions().end() ? nullptr : &it->second;
}

Context::Context(Globals globals) : globals_(std::move(globals)) {
  reporter_ = std::make_unique<TerminalReporter>(
      std::cerr, progress_mode(globals_.progress, ::isatty(STDERR_FILENO) == 1), verbosity(globals_));
}

Context::~Context() = default;

bool Context::color_stderr() const {
  const char* no_color = std::getenv("NO_COLOR");
  if (globals_.no_color || (no_color && *no_color)) return false;
  return ::isatty(STDERR_FILENO) == 1;
}

std::filesystem::path Context::project_file() const {
  std::optional<std::filesystem::path> explicit_file;
  if (!globals_.config.empty()) explicit_file = globals_.config;
  return unwrap(core::locate_project_file(std::filesystem::current_path(), explicit_file));
}

core::Reporter& Context::reporter() { return *reporter_; }

void Context::print(const nlohmann::json& document, const std::string& text) const {
  if (json()) {
    std::cout << document.dump(2) << '\n';
  } else if (!text.empty() && !globals_.quiet) {
    std::cout << text;
    if (!text.ends_with('\n')) std::cout << '\n';
  }
  std::cout << std::flush;
}

void Context::print_error(const std::string& message, const std::string& hint) const {
  bool color = color_stderr();
  std::cerr << "mlctl: " << (color ? "\033[1;31merror:\033[0m " : "error: ") << message << '\n';
  if (!hint.empty()) std::cerr << (color ? "\033[1mhint:\033[0m " : "hint: ") << hint << '\n';
}

void Context::print_warning(const std::string& message) const {
  if (globals_.quiet) return;
  std::cerr << "mlctl: " << (color_stderr() ? "\033[1;33mwarning:\033[0m " : "warning: ") << message << '\n';
}

std::string format_table(const std::vector<std::vector<std::string>>& rows) {
  std::vector<std::size_t> widths;
  for (const auto& row : rows)
    for (std::size_t i = 0; i < row.size(); ++i) {
      if (widths.size() <= i) widths.push_back(0);
      widths[i] = std::max(widths[i], row[i].size());
    }
  std::string out;
  for (const auto& row : rows) {
    std::string line;
    for (std::size_t i = 0; i < row.size(); ++i)
      line += i + 1 == row.size() ? row[i] : fmt::format("{:<{}}  ", row[i], widths[i]);
    while (line.ends_with(' ')) line.pop_back();
    out += line + "\n";
  }
  return out;
}

void fail_with_problems(Context& context, nlohmann::json& document, const std::vector<core::Diagnostic>& problems) {
  document["valid"] = false;
  document["problems"] = nlohmann::json::array();
  for (const auto& problem : problems) {
    document["problems"].push_back({{"file", problem.file},
                                    {"line", problem.line},
                                    {"column", problem.column},
                                    {"field", problem.field},
                                    {"message", problem.message}});
    context.print_error(problem.to_string());
  }
  if (context.json()) context.print(document, "");
  throw Exit{static_cast<int>(Errc::invalid)};
}

}  // namespace mlctl::cli
