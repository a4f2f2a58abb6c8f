#include <mlctl/core/config.hpp>

#include <mlctl/core/fs.hpp>
#include <mlctl/core/quantity.hpp>
#include <mlctl/core/semver.hpp>
#include <mlctl/core/text.hpp>

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdlib>

#include <fmt/format.h>

namespace mlctl::core {

namespace fs = std::filesystem;
using Required = YamlReader::Required;

namespace {

constexpr std::array<std::string_view, 7> k_flavors = {"generic", "sklearn", "xgboost", "lightgbm",
                                                       "pytorch", "tensorflow", "onnx"};

bool is_env_name(std::string_view name) {
  if (name.empty() || (name[0] >= '0' && name[0] <= '9')) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
  });
}

// "3.11": what pip's --python-version takes for the image's interpreter.
bool is_python_version(std::string_view text) {
  auto dot = text.find('.');
  auto digits = [](std::string_view part) {
    return !part.empty() && part.size() <= 3 && std::ranges::all_of(part, [](char c) { return c >= '0' && c <= '9'; });
  };
  return dot != std::string_view::npos && digits(text.substr(0, dot)) && digits(text.substr(dot + 1));
}

// Reports a failed Result<void> check as a diagnostic at `node`.
void check(YamlReader& r, const YamlNode& node, const std::string& path, Result<void> result) {
  if (!result) r.error(node, path, result.error().message());
}

// true or false at `key` of `node`, or `fallback` when the key is absent.
bool read_bool(YamlReader& r, const YamlNode& node, std::string_view key, const std::string& path, bool fallback) {
  auto text = r.string(node, key, path, Required::no);
  if (!text) return fallback;
  if (*text == "true") return true;
  if (*text == "false") return false;
  r.error(node[key], path, fmt::format("'{}' is not true or false", *text));
  return fallback;
}

ImageConfig read_image(YamlReader& r, const YamlNode& node) {
  ImageConfig image;
  if (!r.mapping(node, "image",
                 {"repository", "base", "python", "system_packages", "include", "exclude", "env", "entrypoint", "cmd",
                  "user", "serve"}))
    return image;
  image.repository = r.string(node, "repository", "image.repository", Required::yes).value_or("");
  image.base = r.string(node, "base", "image.base", Required::yes).value_or("");
  if (const YamlNode python = node["python"]; python.is_defined() && !python.is_null()) {
    if (r.mapping(python, "image.python", {"requirements", "version"})) {
      auto [line, column] = position(python["requirements"]);
      image.python_requirements = {
          r.string(python, "requirements", "image.python.requirements", Required::no).value_or(""), line, column};
      image.python_version = r.string(python, "version", "image.python.version", Required::no).value_or("");
      if (!image.python_version.empty() && !is_python_version(image.python_version))
        r.error(python["version"], "image.python.version",
                fmt::format("'{}' is not a Python version; write MAJOR.MINOR, e.g. \"3.11\"", image.python_version));
    }
  }
  image.system_packages = r.string_list(node, "system_packages", "image.system_packages");
  image.include = r.string_list(node, "include", "image.include");
  image.exclude = r.string_list(node, "exclude", "image.exclude");
  image.env = r.string_map(node, "env", "image.env");
  for (const auto& [key, value] : image.env) {
    if (!is_env_name(key))
      r.error(node["env"], "image.env." + key, "not a valid environment variable name");
  }
  image.entrypoint = r.string_list(node, "entrypoint", "image.entrypoint");
  image.cmd = r.string_list(node, "cmd", "image.cmd");
  image.user = r.string(node, "user", "image.user", Required::no).value_or("");
  image.serve = read_bool(r, node, "serve", "image.serve", false);
  return image;
}

std::vector<std::pair<std::string, Located>> read_pipelines(YamlReader& r, const YamlNode& node) {
  std::vector<std::pair<std::string, Located>> pipelines;
  if (!r.any_mapping(node, "pipelines")) return pipelines;
  for (const auto& entry : node.entries()) {
    if (!entry.key.is_scalar()) continue;
    std::string path = "pipelines." + entry.key.scalar();
    check(r, entry.key, path, check_dns1123_label(entry.key.scalar()));
    if (auto file = r.scalar(entry.value, path)) {
      auto [line, column] = position(entry.value);
      pipelines.emplace_back(entry.key.scalar(), Located{*file, line, column});
    }
  }
  return pipelines;
}

ModelConfig read_model(YamlReader& r, const YamlNode& node) {
  ModelConfig model;
  if (!r.mapping(node, "model", {"name", "flavor", "packaging"})) return model;
  model.name = r.string(node, "name", "model.name", Required::no).value_or("");
  if (!model.name.empty()) check(r, node["name"], "model.name", check_dns1123_label(model.name));
  model.flavor = r.string(node, "flavor", "model.flavor", Required::no).value_or("");
  if (!model.flavor.empty() && std::ranges::find(k_flavors, model.flavor) == k_flavors.end()) {
    std::string message = fmt::format("unknown flavor '{}'", model.flavor);
    if (auto suggestion = nearest(model.flavor, k_flavors)) message += fmt::format("; did you mean '{}'?", *suggestion);
    else message += fmt::format(" (one of: {})", fmt::join(k_flavors, ", "));
    r.error(node["flavor"], "model.flavor", message);
  }
  model.packaging = r.string(node, "packaging", "model.packaging", Required::no).value_or(model.packaging);
  if (std::ranges::find(k_packagings, model.packaging) == k_packagings.end())
    r.error(node["packaging"], "model.packaging",
            fmt::format("unknown packaging '{}' (one of: {})", model.packaging, fmt::join(k_packagings, ", ")));
  return model;
}

RegistryConfig read_registry(YamlReader& r, const YamlNode& node) {
  RegistryConfig registry;
  if (!r.mapping(node, "registry", {"database", "artifacts"})) return registry;
  registry.database = r.string(node, "database", "registry.database", Required::no).value_or("");
  registry.artifacts = r.string(node, "artifacts", "registry.artifacts", Required::no).value_or("");
  return registry;
}

// A whole number in [low, high] at `key` of `node`, or `fallback` when the key is absent.
int read_int(YamlReader& r, const YamlNode& node, std::string_view key, const std::string& path, int low, int high,
             int fallback) {
  auto text = r.string(node, key, path, Required::no);
  if (!text) return fallback;
  int value = 0;
  auto [end, error] = std::from_chars(text->data(), text->data() + text->size(), value);
  if (error != std::errc() || end != text->data() + text->size() || value < low || value > high) {
    r.error(node[key], path, fmt::format("'{}' is not a whole number from {} to {}", *text, low, high));
    return fallback;
  }
  return value;
}

// serving.canary: {steps: [{weight: N, pause: D}...], analysis: {prometheus, success_rate, p95_latency_ms}}
void read_canary(YamlReader& r, const YamlNode& node, ServingConfig& serving) {
  if (!r.mapping(node, "serving.canary", {"steps", "analysis"})) return;
  if (YamlNode steps = node["steps"]; steps.is_defined() && !steps.is_null()) {
    if (!steps.is_sequence() || steps.size() == 0) {
      r.error(steps, "serving.canary.steps", "expected a list of {weight: PERCENT, pause: DURATION}");
      return;
    }
    int previous = 0;
    for (std::size_t i = 0; i < steps.size(); ++i) {
      YamlNode step = steps[i];
      std::string path = fmt::format("serving.canary.steps[{}]", i);
      if (!r.mapping(step, path, {"weight", "pause"})) continue;
      if (!step["weight"].is_defined()) {
        r.error(step, path + ".weight", "every step needs a weight");
        continue;
      }
      int weight = read_int(r, step, "weight", path + ".weight", 1, 100, 0);
      if (weight != 0 && weight <= previous)
        r.error(step["weight"], path + ".weight", fmt::format("{} does not rise above the step before ({})", weight, previous));
      std::string pause = r.string(step, "pause", path + ".pause", Required::no).value_or("");
      if (!pause.empty()) check(r, step["pause"], path + ".pause", check_pause(pause));
      previous = std::max(previous, weight);
      serving.canary_steps.emplace_back(weight, pause);
    }
  }
  YamlNode analysis = node["analysis"];
  if (!analysis.is_defined() || analysis.is_null() ||
      !r.mapping(analysis, "serving.canary.analysis", {"prometheus", "success_rate", "p95_latency_ms"}))
    return;
  serving.prometheus = r.string(analysis, "prometheus", "serving.canary.analysis.prometheus", Required::no).value_or("");
  if (!serving.prometheus.empty() && !serving.prometheus.starts_with("http://") &&
      !serving.prometheus.starts_with("https://"))
    r.error(analysis["prometheus"], "serving.canary.analysis.prometheus",
            fmt::format("'{}' is not an http(s) URL", serving.prometheus));
  if (auto text = r.string(analysis, "success_rate", "serving.canary.analysis.success_rate", Required::no)) {
    char* end = nullptr;
    double rate = std::strtod(text->c_str(), &end);
    if (text->empty() || *end != '\0' || !(rate > 0 && rate <= 1))
      r.error(analysis["success_rate"], "serving.canary.analysis.success_rate",
              fmt::format("'{}' is not a fraction in (0, 1], e.g. 0.99", *text));
    else
      serving.min_success_rate = rate;
  }
  if (analysis["p95_latency_ms"].is_defined())
    serving.max_p95_latency_ms =
        read_int(r, analysis, "p95_latency_ms", "serving.canary.analysis.p95_latency_ms", 1, 3'600'000, 500);
}

ServingConfig read_serving(YamlReader& r, const YamlNode& node) {
  ServingConfig serving;
  if (!r.mapping(node, "serving", {"resources", "autoscaling", "canary"})) return serving;
  if (YamlNode resources = node["resources"]; resources.is_defined() && !resources.is_null() &&
                                              r.mapping(resources, "serving.resources", {"cpu", "memory", "gpu"})) {
    if (auto cpu = r.string(resources, "cpu", "serving.resources.cpu", Required::no)) {
      check(r, resources["cpu"], "serving.resources.cpu", check_cpu(*cpu));
      serving.cpu = *cpu;
    }
    if (auto memory = r.string(resources, "memory", "serving.resources.memory", Required::no)) {
      check(r, resources["memory"], "serving.resources.memory", check_memory(*memory));
      serving.memory = *memory;
    }
    serving.gpu = read_int(r, resources, "gpu", "serving.resources.gpu", 0, 64, 0);
  }
  if (YamlNode scaling = node["autoscaling"]; scaling.is_defined() && !scaling.is_null() &&
                                              r.mapping(scaling, "serving.autoscaling", {"min", "max", "cpu"})) {
    serving.min_replicas = read_int(r, scaling, "min", "serving.autoscaling.min", 1, 1000, serving.min_replicas);
    serving.max_replicas = read_int(r, scaling, "max", "serving.autoscaling.max", 1, 1000, serving.max_replicas);
    serving.cpu_utilization = read_int(r, scaling, "cpu", "serving.autoscaling.cpu", 1, 100, serving.cpu_utilization);
    if (serving.max_replicas < serving.min_replicas)
      r.error(scaling, "serving.autoscaling",
              fmt::format("max ({}) is below min ({})", serving.max_replicas, serving.min_replicas));
  }
  if (YamlNode canary = node["canary"]; canary.is_defined() && !canary.is_null()) read_canary(r, canary, serving);
  return serving;
}

std::vector<Environment> read_environments(YamlReader& r, const YamlNode& node) {
  std::vector<Environment> environments;
  if (!r.any_mapping(node, "environments")) return environments;
  for (const auto& entry : node.entries()) {
    if (!entry.key.is_scalar()) continue;
    Environment env{entry.key.scalar(), "", ""};
    std::string path = "environments." + env.name;
    check(r, entry.key, path, check_dns1123_label(env.name));
    if (!r.mapping(entry.value, path, {"namespace", "branch"})) continue;
    env.namespace_name = r.string(entry.value, "namespace", path + ".namespace", Required::yes).value_or("");
    if (!env.namespace_name.empty())
      check(r, entry.value["namespace"], path + ".namespace", check_dns1123_label(env.namespace_name));
    env.branch = r.string(entry.value, "branch", path + ".branch", Required::yes).value_or("");
    environments.push_back(std::move(env));
  }
  return environments;
}

// A scalar at `key` with where it was written; `fallback` when absent.
Located read_located(YamlReader& r, const YamlNode& node, std::string_view key, const std::string& path,
                     Located fallback) {
  auto text = r.string(node, key, path, Required::no);
  if (!text) return fallback;
  auto [line, column] = position(node[key]);
  return {*text, line, column};
}

GateConfig read_gate(YamlReader& r, const YamlNode& node) {
  GateConfig gate;
  if (!r.mapping(node, "release.gate", {"promote_to", "require", "better_than", "on"})) return gate;
  gate.promote_to = r.string(node, "promote_to", "release.gate.promote_to", Required::no).value_or(gate.promote_to);
  check(r, node["promote_to"], "release.gate.promote_to", check_dns1123_label(gate.promote_to));
  if (YamlNode require = node["require"]; require.is_defined() && !require.is_null()) {
    if (require.is_scalar()) {
      gate.require.push_back(read_located(r, node, "require", "release.gate.require", {}));
    } else if (!require.is_sequence()) {
      r.error(require, "release.gate.require", fmt::format("expected a condition or a list, got {}", describe(require)));
    } else {
      for (std::size_t i = 0; i < require.size(); ++i) {
        std::string path = fmt::format("release.gate.require[{}]", i);
        auto [line, column] = position(require[i]);
        if (auto text = r.scalar(require[i], path)) gate.require.push_back({*text, line, column});
      }
    }
  }
  gate.better_than = r.string(node, "better_than", "release.gate.better_than", Required::no).value_or("");
  if (!gate.better_than.empty())
    check(r, node["better_than"], "release.gate.better_than", check_dns1123_label(gate.better_than));
  gate.on = r.string(node, "on", "release.gate.on", Required::no).value_or("");
  if (gate.better_than.empty() != gate.on.empty())
    r.error(node, "release.gate", "better_than and on go together: the alias to beat and the metric compared");
  return gate;
}

// release.train: {backend, server, namespace, artifacts, timeout}.
TrainConfig read_train(YamlReader& r, const YamlNode& node) {
  TrainConfig train;
  if (!r.mapping(node, "release.train", {"backend", "server", "namespace", "artifacts", "timeout"})) return train;
  train.backend = r.string(node, "backend", "release.train.backend", Required::no).value_or(train.backend);
  if (train.backend == "kfp")
    r.error(node["backend"], "release.train.backend",
            "a release cannot train on Kubeflow Pipelines yet (local or argo); `mlctl pipeline submit --backend kfp` "
            "runs the pipeline there");
  else if (train.backend != "local" && train.backend != "argo")
    r.error(node["backend"], "release.train.backend", fmt::format("unknown backend '{}' (local or argo)", train.backend));
  train.server = r.string(node, "server", "release.train.server", Required::no).value_or("");
  if (!train.server.empty() && !train.server.starts_with("https://") && !train.server.starts_with("http://"))
    r.error(node["server"], "release.train.server", fmt::format("'{}' is not an http(s):// URL", train.server));
  train.namespace_name = r.string(node, "namespace", "release.train.namespace", Required::no).value_or(train.namespace_name);
  check(r, node["namespace"], "release.train.namespace", check_dns1123_label(train.namespace_name));
  train.artifacts = r.string(node, "artifacts", "release.train.artifacts", Required::no).value_or(train.artifacts);
  if (train.artifacts != "volume" && train.artifacts != "s3")
    r.error(node["artifacts"], "release.train.artifacts",
            fmt::format("unknown artifact passing '{}' (volume or s3)", train.artifacts));
  train.timeout = r.string(node, "timeout", "release.train.timeout", Required::no).value_or(train.timeout);
  return train;
}

// release: {pipeline, tag, gate, gitops: {repo, dir}, train}; the pipeline must be one of `pipelines`.
ReleaseConfig read_release(YamlReader& r, const YamlNode& node, const Project& project) {
  ReleaseConfig release;
  if (!r.mapping(node, "release", {"pipeline", "tag", "gate", "gitops", "train"})) return release;
  release.pipeline = read_located(r, node, "pipeline", "release.pipeline", {});
  if (!release.pipeline.value.empty() &&
      std::ranges::none_of(project.pipelines, [&](const auto& p) { return p.first == release.pipeline.value; })) {
    std::vector<std::string> names;
    for (const auto& [name, file] : project.pipelines) names.push_back(name);
    r.error(node["pipeline"], "release.pipeline",
            fmt::format("no pipeline '{}' in pipelines{}", release.pipeline.value,
                        names.empty() ? "" : fmt::format(" (there: {})", fmt::join(names, ", "))));
  }
  release.tag = read_located(r, node, "tag", "release.tag", release.tag);
  if (release.tag.value.find("{version}") == std::string::npos)
    r.error(node["tag"], "release.tag", fmt::format("'{}' has no {{version}}: every release would get the same tag",
                                                    release.tag.value));
  if (YamlNode gate = node["gate"]; gate.is_defined() && !gate.is_null()) release.gate = read_gate(r, gate);
  if (YamlNode gitops = node["gitops"]; gitops.is_defined() && !gitops.is_null()) {
    if (r.mapping(gitops, "release.gitops", {"repo", "dir"})) {
      GitOpsConfig config;
      if (r.string(gitops, "repo", "release.gitops.repo", Required::yes))
        config.repo = read_located(r, gitops, "repo", "release.gitops.repo", {});
      config.dir = r.string(gitops, "dir", "release.gitops.dir", Required::no).value_or(config.dir);
      fs::path dir(config.dir);
      if (dir.is_absolute() || config.dir.empty() ||
          std::ranges::any_of(dir, [](const fs::path& part) { return part == ".." || part == ".git"; }))
        r.error(gitops["dir"], "release.gitops.dir",
                fmt::format("'{}' must be a folder inside the GitOps repository (relative, no '..' or '.git')",
                            config.dir));
      release.gitops = std::move(config);
    }
  }
  if (YamlNode train = node["train"]; train.is_defined() && !train.is_null()) release.train = read_train(r, train);
  return release;
}

Project read_project(YamlReader& r, const YamlNode& root) {
  Project project;
  if (!r.mapping(root, "", {"name", "version", "image", "pipelines", "model", "environments", "registry", "serving",
                             "release"}))
    return project;
  project.name = r.string(root, "name", "name", Required::yes).value_or("");
  if (!project.name.empty()) check(r, root["name"], "name", check_dns1123_label(project.name));
  project.version = r.string(root, "version", "version", Required::yes).value_or("");
  if (!project.version.empty()) check(r, root["version"], "version", check_semver(project.version));
  auto present = [&](const char* key) { return root[key].is_defined() && !root[key].is_null(); };
  if (present("image")) project.image = read_image(r, root["image"]);
  if (present("pipelines")) project.pipelines = read_pipelines(r, root["pipelines"]);
  if (present("model")) project.model = read_model(r, root["model"]);
  if (present("environments")) project.environments = read_environments(r, root["environments"]);
  if (present("registry")) project.registry = read_registry(r, root["registry"]);
  if (present("serving")) project.serving = read_serving(r, root["serving"]);
  if (present("release")) project.release = read_release(r, root["release"], project);
  if (project.model.name.empty()) project.model.name = project.name;
  if (project.model.flavor.empty()) project.model.flavor = "generic";
  return project;
}

}  // namespace

ProjectCheck parse_project(std::string_view text, const std::string& display_name, const EnvLookup& env) {
  YamlReader reader(display_name, env);
  auto document = YamlDocument::parse(text);
  if (!document) {
    reader.error_at(document.error().line, document.error().column, "", "invalid YAML: " + document.error().message);
    return {std::nullopt, std::move(reader.diagnostics())};
  }
  YamlNode root = document->root();
  if (!root.is_defined() || root.is_null()) {
    reader.error_at(0, 0, "", "the file is empty; it needs at least 'name' and 'version'");
    return {std::nullopt, std::move(reader.diagnostics())};
  }
  Project project = read_project(reader, root);
  if (!reader.diagnostics().empty()) return {std::nullopt, std::move(reader.diagnostics())};
  return {std::move(project), {}};
}

ProjectCheck check_project_file(const fs::path& file, const EnvLookup& env) {
  std::string shown = display_path(file);
  auto text = read_file(file);
  if (!text) return {std::nullopt, {{shown, 0, 0, "", text.error().message()}}, text.error().code()};
  ProjectCheck result = parse_project(*text, shown, env);
  if (!result.project) return result;

  Project& project = *result.project;
  project.file = fs::absolute(file);
  project.root = project.file.parent_path();
  std::error_code ec;
  for (const auto& [name, pipeline] : project.pipelines) {
    if (!fs::is_regular_file(project.root / pipeline.value, ec))
      result.problems.push_back({shown, pipeline.line, pipeline.column, "pipelines." + name,
                                 fmt::format("pipeline file '{}' does not exist", pipeline.value)});
  }
  if (project.image && !project.image->python_requirements.value.empty()) {
    const Located& requirements = project.image->python_requirements;
    if (!fs::is_regular_file(project.root / requirements.value, ec))
      result.problems.push_back({shown, requirements.line, requirements.column, "image.python.requirements",
                                 fmt::format("requirements file '{}' does not exist", requirements.value)});
  }
  if (!result.problems.empty()) result.project.reset();
  return result;
}

Result<Project> load_project(const fs::path& file, const EnvLookup& env) {
  ProjectCheck checked = check_project_file(file, env);
  if (checked.project) return std::move(*checked.project);
  const auto& problems = checked.problems;
  std::string message = problems.front().to_string();
  if (problems.size() > 1) message += fmt::format(" (and {} more problems)", problems.size() - 1);
  return fail(checked.code, message, problems.size() > 1 ? "run 'mlctl validate' to see every problem" : "");
}

Result<fs::path> locate_project_file(const fs::path& start, const std::optional<fs::path>& explicit_file) {
  if (explicit_file) {
    std::error_code ec;
    if (!fs::is_regular_file(*explicit_file, ec))
      return fail(Errc::not_found, fmt::format("{}: no such file", explicit_file->string()));
    return *explicit_file;
  }
  if (auto found = find_upward(start, k_project_file)) return *found;
  return fail(Errc::not_found,
              fmt::format("no {} in {} or any parent folder", k_project_file, fs::absolute(start).string()),
              "run 'mlctl init' to create a project, or pass --config FILE or -C DIR");
}

}  // namespace mlctl::core
