#include "context.hpp"

#include <mlctl/project/init.hpp>

#include <fmt/format.h>

namespace mlctl::cli {

namespace {

struct InitArgs {
  std::string dir = ".";
  std::string template_name = "sklearn";
  std::string name;
  bool force = false;
};

void run_init(Context& context, const InitArgs& args) {
  project::InitOptions options{args.dir, args.template_name, std::nullopt,
                               args.force ? project::Overwrite::yes : project::Overwrite::no};
  if (!args.name.empty()) options.name = args.name;
  auto result = unwrap(project::init_project(options));

  std::string text = fmt::format("Created project '{}' from the {} template in {}:\n", result.name,
                                 result.template_name, result.dir.string());
  for (const auto& file : result.files) text += fmt::format("  {}\n", file);
  text += fmt::format("Next: {}mlctl validate", args.dir == "." ? "" : fmt::format("cd {} && ", args.dir));
  context.print({{"name", result.name},
                 {"template", result.template_name},
                 {"dir", std::filesystem::weakly_canonical(std::filesystem::absolute(result.dir)).string()},
                 {"files", result.files}},
                text);
}

}  // namespace

void add_init(CLI::App& app) {
  auto args = std::make_shared<InitArgs>();
  auto names = project::template_names();
  CLI::App* command = app.add_subcommand("init", "Create a working ML project from a template");
  command->add_option("dir", args->dir, "The project folder, created if missing (default: the current folder)")
      ->option_text("DIR");
  command->add_option("-t,--template", args->template_name, "The template (default: sklearn)")
      ->check(CLI::IsMember(names))
      ->option_text(fmt::format("{}", fmt::join(names, "|")));
  command->add_option("--name", args->name, "The project name, a DNS-1123 label (default: from the folder name)")
      ->option_text("NAME");
  command->add_flag("--force", args->force, "Overwrite files that already exist");
  command->footer(R"(Templates:
  sklearn   scikit-learn training on a bundled data set (no download), requirements.txt
  generic   a shell-only pipeline that runs on any machine and produces a model file

Examples:
  mlctl init fraud-detector
  mlctl init --template generic --name demo /tmp/demo

init writes nothing if any of its files already exists, unless --force.)");
  on_run(command, [args](Context& context) { run_init(context, *args); });
}

}  // namespace mlctl::cli
