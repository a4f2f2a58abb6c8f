#include "context.hpp"
#include "version.hpp"

#include <fmt/format.h>

namespace mlctl::cli {

std::string version_line() {
  return fmt::format("mlctl {} (commit {}{})", k_version, std::string_view(k_git_commit).substr(0, 12),
                     k_git_dirty ? ", dirty" : "");
}

void add_version(CLI::App& app) {
  CLI::App* command = app.add_subcommand("version", "Print the version of mlctl and the commit it was built from");
  on_run(command, [](Context& context) {
    context.print({{"version", k_version}, {"git_commit", k_git_commit}, {"git_dirty", k_git_dirty}}, version_line());
  });
}

}  // namespace mlctl::cli
