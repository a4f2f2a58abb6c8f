#pragma once

#include <mlctl/core/config.hpp>
#include <mlctl/core/error.hpp>
#include <mlctl/core/reporter.hpp>
#include <mlctl/core/yaml_reader.hpp>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

namespace mlctl::cli {

// The global options every command shares.
struct Globals {
  std::string chdir;
  std::string config;
  std::string output = "text";
  int verbose = 0;
  bool quiet = false;
  bool no_color = false;
  std::string progress = "auto";
};

// A failure on its way to main's single catch, which prints it and maps it to the exit code.
struct Fatal {
  Error error;
};

// Ends the command with `code` after the command has already told the user why.
struct Exit {
  int code;
};

// What a command needs from the command line: the globals, output, and the project.
class Context {
public:
  explicit Context(Globals globals);
  ~Context();

  const Globals& globals() const { return globals_; }
  bool json() const { return globals_.output == "json"; }
  bool color_stderr() const;

  // The project file named by --config, or the nearest mlctl.yaml; Fatal when there is none.
  std::filesystem::path project_file() const;

  core::Reporter& reporter();

  // Prints the command's result: `document` with -o json, otherwise `text` (unless empty).
  void print(const nlohmann::json& document, const std::string& text) const;
  // Prints a problem line "mlctl: error: ..." on stderr.
  void print_error(const std::string& message, const std::string& hint = {}) const;
  // Prints "mlctl: warning: ..." on stderr, unless --quiet.
  void print_warning(const std::string& message) const;

private:
  Globals globals_;
  std::unique_ptr<core::Reporter> reporter_;
};

// Unwraps a result for cli code: the value, or Fatal with the error.
template <typename T>
T unwrap(Result<T> result) {
  if (!result) throw Fatal{std::move(result.error())};
  if constexpr (!std::is_void_v<T>) return std::move(*result);
}

// Rows as columns padded to their widest cell, two spaces apart; each row ends with a newline.
std::string format_table(const std::vector<std::vector<std::string>>& rows);

// Prints every problem on stderr (and `document` with "valid": false and "problems": [{"file",
// "line", "column", "field", "message"}] with -o json), then ends the command with exit code 2.
[[noreturn]] void fail_with_problems(Context& context, nlohmann::json& document,
                                     const std::vector<core::Diagnostic>& problems);

using Action = std::function<void(Context&)>;

// Registers what runs when `command` is the one chosen on the command line.
void on_run(CLI::App* command, Action action);
const Action* action_for(const CLI::App* command);

// Command groups, one file each.
void add_build(CLI::App& app);
void add_init(CLI::App& app);
void add_validate(CLI::App& app);
void add_version(CLI::App& app);
// "mlctl VERSION (commit ABBREV[, dirty])", as `mlctl version` and `mlctl --version` print it.
std::string version_line();
void add_completion(CLI::App& app);
void add_model(CLI::App& app);
void add_pipeline(CLI::App& app);
void add_deploy(CLI::App& app);
void add_rollout(CLI::App& app);
void add_serve(CLI::App& app);
void add_hook(CLI::App& app);
void add_release(CLI::App& app);

}  // namespace mlctl::cli
