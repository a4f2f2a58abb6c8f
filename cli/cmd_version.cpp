#include "context.hpp"
#include "version.hpp"

#include <fmt/format.h>

namespace mlctl::cli {

void add_version(CLI::App& app) {
  CLI::App* command = app.add_subcommand("version", "Print the version of mlctl and the commit it was built from");
  on_run(command, [](Context& context) {
    std::string commit = k_git_commit;
    context.print({{"version", k_version}, {"git_commit", commit}, {"git_dirty", k_git_dirty}},
                  fmt::format("mlctl {} (commit {}{})", k_version, commit.substr(0, 12), k_git_dirty ? ", dirty" : ""));
  });
}

}  // namespace mlctl::cli
