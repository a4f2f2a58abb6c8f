#include <mlctl/project/init.hpp>

#include <mlctl/core/fs.hpp>
#include <mlctl/core/text.hpp>
#include <mlctl/project/templates.hpp>

#include <algorithm>
#include <set>

#include <fmt/format.h>

namespace mlctl::project {

namespace fs = std::filesystem;

namespace {

constexpr std::string_view k_init_prefix = "init/";

Result<std::string> project_name(const InitOptions& options) {
  if (options.name) {
    if (auto valid = core::check_dns1123_label(*options.name); !valid)
      return std::unexpected(valid.error().context("--name"));
    return *options.name;
  }
  fs::path absolute = fs::weakly_canonical(fs::absolute(options.dir));
  std::string folder = absolute.filename().string();
  if (auto name = core::to_dns1123_label(folder)) return *name;
  return fail(Errc::invalid, fmt::format("cannot make a project name from the folder name '{}'", folder),
              "pass --name NAME (lowercase letters, digits and '-')");
}

}  // namespace

std::vector<std::string> template_names() {
  std::set<std::string> names;
  for (const auto& file : embedded_templates()) {
    if (!file.path.starts_with(k_init_prefix)) continue;
    auto rest = file.path.substr(k_init_prefix.size());
    names.emplace(rest.substr(0, rest.find('/')));
  }
  return {names.begin(), names.end()};
}

Result<InitResult> init_project(const InitOptions& options) {
  auto names = template_names();
  if (std::ranges::find(names, options.template_name) == names.end()) {
    return fail(Errc::invalid, fmt::format("unknown template '{}'", options.template_name),
                fmt::format("choose one of: {}", fmt::join(names, ", ")));
  }
  auto name = project_name(options);
  if (!name) return std::unexpected(name.error());

  auto files = templates_under(fmt::format("{}{}/", k_init_prefix, options.template_name));
  std::ranges::sort(files, {}, &TemplateFile::path);
  std::error_code ec;
  if (fs::exists(options.dir, ec) && !fs::is_directory(options.dir, ec))
    return fail(Errc::invalid, fmt::format("{} exists and is not a folder", options.dir.string()));
  if (options.overwrite == Overwrite::no) {
    std::vector<std::string> existing;
    for (const auto& file : files) {
      if (fs::exists(options.dir / file.path, ec)) existing.emplace_back(file.path);
    }
    if (!existing.empty()) {
      return fail(Errc::precondition,
                  fmt::format("{} already has {}", options.dir.string(), fmt::join(existing, ", ")),
                  "nothing was written; pass --force to overwrite these files");
    }
  }

  InitResult result{options.dir, *name, options.template_name, {}};
  const std::pair<std::string_view, std::string> vars[] = {{"NAME", *name}};
  for (const auto& file : files) {
    fs::path target = options.dir / file.path;
    if (auto written = core::write_file_atomic(target, substitute(file.content, vars)); !written)
      return std::unexpected(written.error().context("writing the project"));
    result.files.emplace_back(file.path);
  }
  return result;
}

}  // namespace mlctl::project
