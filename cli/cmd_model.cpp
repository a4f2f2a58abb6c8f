#include "context.hpp"
#include "registry_location.hpp"
#include "terminal_reporter.hpp"

#include <mlctl/core/digest.hpp>
#include <mlctl/core/fs.hpp>
#include <mlctl/models/lineage.hpp>
#include <mlctl/models/registry.hpp>
#include <mlctl/models/time.hpp>

#include <charconv>
#include <cmath>
#include <cstdlib>

#include <fmt/format.h>

namespace mlctl::cli {

namespace {

namespace fs = std::filesystem;
using models::Registry;

struct ModelFlags {
  std::string registry_db;
  std::string artifact_store;
  std::string name;
  std::string ref;
  std::string artifact;
  std::vector<std::string> metrics, params, tags, untags, datasets, conditions;
  std::string metrics_file, flavor, description, image, run, reason;
  std::string where, sort, alias, to, better_than, on, at, destination, file;
  std::int64_t version = 0, version2 = 0, limit = 100, offset = 0;
  std::string uri, digest;  // fetch
  std::uint64_t size = 0;
  bool directory = false;
};

RegistryPlace locate(const Context& context, const ModelFlags& flags) {
  return locate_registry(context, {.database = flags.registry_db, .artifacts = flags.artifact_store});
}

models::Change change(const ModelFlags& flags) {
  return {.actor = models::default_actor(core::process_env()), .reason = flags.reason};
}

// Fatal unless `key` is a valid key; the error quotes the flag and what was `given` with it.
void require_key(const std::string& key, const char* flag, const std::string& given) {
  if (auto checked = models::check_key(key); !checked)
    throw Fatal{Error(Errc::invalid, fmt::format("{} '{}': {}", flag, given, checked.error().message()))};
}

std::pair<std::string, std::string> split_pair(const std::string& text, const char* flag) {
  auto eq = text.find('=');
  if (eq == std::string::npos)
    throw Fatal{Error(Errc::invalid, fmt::format("{} '{}' is not KEY=VALUE", flag, text))};
  std::string key = text.substr(0, eq);
  require_key(key, flag, text);
  return {key, text.substr(eq + 1)};
}

double metric_value(const std::string& text, const std::string& original) {
  double value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc{} || end != text.data() + text.size() || !std::isfinite(value))
    throw Fatal{Error(Errc::invalid, fmt::format("--metric '{}': '{}' is not a number", original, text),
                      "write --metric NAME=NUMBER, e.g. --metric auc=0.93")};
  return value;
}

nlohmann::json read_metrics_file(const std::string& path) {
  auto text = unwrap(core::read_file(path));
  auto document = nlohmann::json::parse(text, nullptr, false);
  if (!document.is_object())
    throw Fatal{Error(Errc::invalid, fmt::format("--metrics-file {}: expected a JSON object of numbers", path))};
  for (const auto& [key, value] : document.items()) {
    if (!value.is_number() || !models::check_key(key))
      throw Fatal{Error(Errc::invalid, fmt::format("--metrics-file {}: '{}' is not a named number", path, key))};
  }
  return document;
}

std::string pairs_text(const nlohmann::json& object) {
  std::vector<std::string> parts;
  for (const auto& [key, value] : object.items())
    parts.push_back(fmt::format("{}={}", key, value.is_string() ? value.get<std::string>() : value.dump()));
  return fmt::format("{}", fmt::join(parts, " "));
}

void run_register(Context& context, const ModelFlags& flags) {
  unwrap(models::check_model_name(flags.name));
  RegistryPlace location = locate(context, flags);
  models::NewVersion version{.name = flags.name, .flavor = flags.flavor.empty() ? location.flavor : flags.flavor,
                             .description = flags.description};
  if (!flags.metrics_file.empty()) version.metrics = read_metrics_file(flags.metrics_file);
  for (const auto& text : flags.metrics) {
    auto [key, value] = split_pair(text, "--metric");
    version.metrics[key] = metric_value(value, text);
  }
  for (const auto& text : flags.params) {
    auto [key, value] = split_pair(text, "--param");
    version.params[key] = value;
  }
  for (const auto& text : flags.tags) {
    auto [key, value] = split_pair(text, "--tag");
    version.tags[key] = value;
  }
  unwrap(models::check_key(version.flavor));
  version.lineage = unwrap(models::collect_lineage(
      location.project_root, {.image = flags.image, .run = flags.run, .datasets = flags.datasets}));
  std::error_code ec;
  if (!fs::exists(flags.artifact, ec))
    throw Fatal{Error(Errc::not_found, fmt::format("--artifact {}: no such file or directory", flags.artifact))};
  // Open the database before copying, so a bad registry path fails before the copy.
  Registry registry = open_registry(location);
  auto store = unwrap(models::open_artifact_store(location.artifacts, {.project_root = location.project_root}));
  version.artifact = unwrap(store->put(flags.artifact, context.reporter()));
  auto record = unwrap(registry.register_version(version, change(flags)));
  if (!context.globals().quiet)
    context.reporter().step(fmt::format("registered {} version {} ({}, {})", record.name, record.version,
                                        record.artifact.digest, human_bytes(record.artifact.size)));
  context.print({{"name", record.name},
                 {"version", record.version},
                 {"artifact_uri", record.artifact.uri},
                 {"artifact_digest", record.artifact.digest}},
                std::to_string(record.version));
}

void run_list(Context& context, const ModelFlags& flags) {
  if (flags.name.empty() && (!flags.where.empty() || !flags.tags.empty() || !flags.sort.empty()))
    throw Fatal{Error(Errc::invalid, "--where, --tag and --sort filter the versions of one model",
                      "name the model: mlctl model list NAME --where ...")};
  if (flags.name.empty()) {
    Registry registry = open_registry(locate(context, flags));
    auto models = unwrap(registry.list_models());
    nlohmann::json document = nlohmann::json::array();
    std::vector<std::vector<std::string>> rows{{"NAME", "VERSIONS", "LATEST", "ALIASES", "DESCRIPTION"}};
    for (const auto& model : models) {
      document.push_back(model.to_json());
      std::vector<std::string> aliases;
      for (const auto& [alias, version] : model.aliases) aliases.push_back(fmt::format("{}={}", alias, version));
      rows.push_back({model.name, std::to_string(model.versions), model.latest ? std::to_string(*model.latest) : "-",
                      fmt::format("{}", fmt::join(aliases, ",")), model.description});
    }
    context.print(document, models.empty() ? "no models" : format_table(rows));
    return;
  }
  unwrap(models::check_model_name(flags.name));
  models::ListQuery query{.name = flags.name, .limit = flags.limit, .offset = flags.offset};
  for (const auto& text : flags.tags) query.tags.push_back(split_pair(text, "--tag"));
  if (!flags.where.empty()) query.where = unwrap(models::parse_filter(flags.where));
  query.sort = flags.sort;
  if (query.sort.ends_with(":asc")) query.ascending = true;
  if (auto colon = query.sort.rfind(':'); colon != std::string::npos) {
    std::string direction = query.sort.substr(colon + 1);
    if (direction != "asc" && direction != "desc")
      throw Fatal{Error(Errc::invalid, fmt::format("--sort '{}': the direction is asc or desc", flags.sort))};
    query.sort.resize(colon);
  }
  Registry registry = open_registry(locate(context, flags));
  auto versions = unwrap(registry.list_versions(query));
  nlohmann::json document = nlohmann::json::array();
  std::vector<std::vector<std::string>> rows{{"VERSION", "CREATED", "FLAVOR", "ALIASES", "STATUS", "METRICS"}};
  for (const auto& record : versions) {
    document.push_back(record.to_json());
    rows.push_back({std::to_string(record.version), record.created_at, record.flavor,
                    fmt::format("{}", fmt::join(record.aliases, ",")), record.archived ? "archived" : "active",
                    pairs_text(record.metrics)});
  }
  context.print(document, versions.empty() ? "no versions" : format_table(rows));
}

std::string version_text(const models::VersionRecord& record) {
  std::vector<std::vector<std::string>> rows{
      {"name:", record.name},
      {"version:", std::to_string(record.version)},
      {"aliases:", fmt::format("{}", fmt::join(record.aliases, ", "))},
      {"status:", record.archived ? "archived" : "active"},
      {"artifact:", record.artifact.uri},
      {"digest:", record.artifact.digest},
      {"size:", human_bytes(record.artifact.size)},
      {"flavor:", record.flavor},
      {"metrics:", pairs_text(record.metrics)},
      {"params:", pairs_text(record.params)},
      {"tags:", pairs_text(record.tags)},
      {"description:", record.description},
      {"created:", fmt::format("{} by {}", record.created_at, record.created_by)},
      {"lineage:", record.lineage.empty() ? "" : record.lineage.dump()}};
  return format_table(rows);
}

void print_model(Context& context, const models::ModelSummary& model) {
  std::vector<std::string> aliases;
  for (const auto& [alias, version] : model.aliases) aliases.push_back(fmt::format("{}={}", alias, version));
  context.print(model.to_json(),
                format_table({{"name:", model.name},
                       {"versions:", std::to_string(model.versions)},
                       {"latest:", model.latest ? std::to_string(*model.latest) : "-"},
                       {"aliases:", fmt::format("{}", fmt::join(aliases, ", "))},
                       {"description:", model.description},
                       {"tags:", pairs_text(model.tags)},
                       {"created:", model.created_at}}));
}

void run_show(Context& context, const ModelFlags& flags) {
  auto ref = unwrap(models::parse_ref(flags.ref));
  Registry registry = open_registry(locate(context, flags));
  if (!ref.version && !ref.alias) {
    print_model(context, unwrap(registry.model(ref.name)));
    return;
  }
  auto record = unwrap(registry.version(ref));
  context.print(record.to_json(), version_text(record));
}

void run_uri(Context& context, const ModelFlags& flags) {
  auto ref = unwrap(models::parse_ref(flags.ref));
  Registry registry = open_registry(locate(context, flags));
  auto record = unwrap(registry.version(ref));
  context.print({{"name", record.name}, {"version", record.version}, {"artifact_uri", record.artifact.uri},
                 {"artifact_digest", record.artifact.digest}},
                record.artifact.uri);
}

void run_pull(Context& context, const ModelFlags& flags) {
  auto ref = unwrap(models::parse_ref(flags.ref));
  RegistryPlace location = locate(context, flags);
  Registry registry = open_registry(location);
  auto record = unwrap(registry.version(ref));
  unwrap(artifact_store_for(location, record.artifact)->get(record.artifact, flags.destination, context.reporter()));
  context.print({{"name", record.name}, {"version", record.version}, {"destination", flags.destination},
                 {"artifact_digest", record.artifact.digest}},
                fmt::format("pulled {}@{} ({}) to {}", record.name, record.version, record.artifact.digest,
                            flags.destination));
}

// The store an artifact URI names: an oci:// artifact's repository (the URI less its manifest
// digest, which the store reads from the URI); s3:// and file:// stores read the object the URI
// names whatever their location.
std::string store_of(const std::string& uri) {
  return uri.starts_with("oci://") ? uri.substr(0, uri.find('@')) : uri;
}

// What a serving pod's init container runs: no registry database, only the store and the digest.
void run_fetch(Context& context, const ModelFlags& flags) {
  if (!flags.uri.starts_with("s3://") && !flags.uri.starts_with("oci://") && !flags.uri.starts_with("file://"))
    throw Fatal{Error(Errc::invalid, fmt::format("'{}' is not an artifact URI", flags.uri),
                      "give a URI as `mlctl model uri` prints it: file://, s3:// or oci://")};
  if (auto checked = core::check_sha256_digest(flags.digest); !checked)
    throw Fatal{Error(Errc::invalid, fmt::format("--digest: {}", checked.error().message()))};
  models::StoredArtifact artifact{.uri = flags.uri, .digest = flags.digest, .size = flags.size,
                                  .directory = flags.directory};
  auto store = unwrap(models::open_artifact_store(store_of(flags.uri), {.project_root = fs::current_path()}));
  unwrap(store->get(artifact, flags.destination, context.reporter()));
  context.print({{"artifact_uri", flags.uri}, {"artifact_digest", flags.digest}, {"destination", flags.destination}},
                fmt::format("fetched {} ({}) to {}", flags.uri, flags.digest, flags.destination));
}

void print_alias_change(Context& context, const std::string& name, const models::AliasChange& changed) {
  auto shown = [](std::optional<std::int64_t> version) { return version ? std::to_string(*version) : "-"; };
  nlohmann::json document = {{"name", name}, {"alias", changed.alias},
                             {"old_version", changed.old_version ? nlohmann::json(*changed.old_version) : nullptr},
                             {"new_version", changed.new_version ? nlohmann::json(*changed.new_version) : nullptr},
                             {"changed", changed.old_version != changed.new_version}};
  context.print(document, changed.old_version == changed.new_version
                              ? fmt::format("{}@{} is already {}", name, changed.alias, shown(changed.new_version))
                              : fmt::format("{}@{}: {} -> {}", name, changed.alias, shown(changed.old_version),
                                            shown(changed.new_version)));
}

void run_promote(Context& context, const ModelFlags& flags) {
  unwrap(models::check_model_name(flags.name));
  unwrap(models::check_alias(flags.to));
  models::Gate gate;
  for (const auto& text : flags.conditions) {
    auto parsed = unwrap(models::parse_filter(text));
    gate.require.insert(gate.require.end(), parsed.begin(), parsed.end());
  }
  if (!flags.better_than.empty()) {
    unwrap(models::check_alias(flags.better_than));
    if (flags.on.empty() || !flags.on.starts_with("metrics."))
      throw Fatal{Error(Errc::invalid, "--require-better-than needs --on metrics.KEY")};
    unwrap(models::field_sql(flags.on));
    gate.better_than = flags.better_than;
    gate.on = flags.on;
  }
  Registry registry = open_registry(locate(context, flags));
  print_alias_change(context, flags.name, unwrap(registry.promote(flags.name, flags.version, flags.to, gate, change(flags))));
}

void run_compare(Context& context, const ModelFlags& flags) {
  unwrap(models::check_model_name(flags.name));
  Registry registry = open_registry(locate(context, flags));
  auto a = unwrap(registry.version({.name = flags.name, .version = flags.version}));
  auto b = unwrap(registry.version({.name = flags.name, .version = flags.version2}));
  std::vector<std::vector<std::string>> rows{{"FIELD", fmt::format("v{}", a.version), fmt::format("v{}", b.version), "DELTA"}};
  nlohmann::json document = {{"name", flags.name}, {"versions", {a.version, b.version}}, {"fields", nlohmann::json::array()}};
  for (const char* section : {"params", "metrics"}) {
    const nlohmann::json& left = section == std::string("params") ? a.params : a.metrics;
    const nlohmann::json& right = section == std::string("params") ? b.params : b.metrics;
    nlohmann::json keys = left;
    keys.update(right);
    for (const auto& [key, unused] : keys.items()) {
      auto value = [&](const nlohmann::json& object) {
        return object.contains(key) ? object[key] : nlohmann::json(nullptr);
      };
      nlohmann::json l = value(left), r = value(right);
      nlohmann::json delta = l.is_number() && r.is_number() ? nlohmann::json(r.get<double>() - l.get<double>()) : nullptr;
      auto text = [](const nlohmann::json& v) { return v.is_null() ? "-" : v.is_string() ? v.get<std::string>() : v.dump(); };
      std::string field = fmt::format("{}.{}", section, key);
      rows.push_back({field, text(l), text(r), delta.is_null() ? "" : fmt::format("{:+g}", delta.get<double>())});
      document["fields"].push_back({{"field", field}, {"a", l}, {"b", r}, {"delta", delta}});
    }
  }
  context.print(document, format_table(rows));
}

void run_update(Context& context, const ModelFlags& flags, bool description_given) {
  unwrap(models::check_model_name(flags.name));
  models::ModelUpdate update;
  if (description_given) update.description = flags.description;
  for (const auto& text : flags.tags) {
    auto [key, value] = split_pair(text, "--tag");
    update.set_tags[key] = value;
  }
  for (const auto& key : flags.untags) {
    require_key(key, "--untag", key);
    update.remove_tags.push_back(key);
  }
  if (!description_given && flags.tags.empty() && flags.untags.empty())
    throw Fatal{Error(Errc::invalid, "nothing to update", "give --description, --tag or --untag")};
  Registry registry = open_registry(locate(context, flags));
  print_model(context, unwrap(registry.update_model(flags.name, update, change(flags))));
}

void run_archive(Context& context, const ModelFlags& flags, bool archived) {
  unwrap(models::check_model_name(flags.name));
  Registry registry = open_registry(locate(context, flags));
  unwrap(registry.set_archived(flags.name, flags.version, archived, change(flags)));
  context.print({{"name", flags.name}, {"version", flags.version}, {"archived", archived}},
                fmt::format("{}@{} {}", flags.name, flags.version, archived ? "archived" : "restored"));
}

void run_history(Context& context, const ModelFlags& flags) {
  unwrap(models::check_model_name(flags.name));
  std::optional<std::string> alias;
  if (!flags.alias.empty()) alias = (unwrap(models::check_alias(flags.alias)), flags.alias);
  Registry registry = open_registry(locate(context, flags));
  if (!flags.at.empty()) {
    std::string at = unwrap(models::parse_time(flags.at));
    auto aliases = unwrap(registry.aliases_at(flags.name, at, alias));
    nlohmann::json map = nlohmann::json::object();
    std::vector<std::vector<std::string>> rows{{"ALIAS", "VERSION"}};
    for (const auto& [name, version] : aliases) {
      map[name] = version ? nlohmann::json(*version) : nullptr;
      rows.push_back({name, version ? std::to_string(*version) : "-"});
    }
    context.print({{"name", flags.name}, {"at", at}, {"aliases", map}}, format_table(rows));
    return;
  }
  auto entries = unwrap(registry.history(flags.name, alias));
  nlohmann::json document = nlohmann::json::array();
  std::vector<std::vector<std::string>> rows{{"TIME", "ACTOR", "ACTION", "ALIAS", "VERSION", "OLD", "NEW", "REASON"}};
  for (const auto& entry : entries) {
    document.push_back(entry.to_json());
    rows.push_back({entry.time, entry.actor, entry.action, entry.alias.value_or("-"),
                    entry.version ? std::to_string(*entry.version) : "-", entry.old_value.value_or("-"),
                    entry.new_value.value_or("-"), entry.reason});
  }
  context.print(document, format_table(rows));
}

void run_export(Context& context, const ModelFlags& flags) {
  std::optional<std::string> name;
  if (!flags.name.empty()) name = (unwrap(models::check_model_name(flags.name)), flags.name);
  Registry registry = open_registry(locate(context, flags));
  std::fputs(unwrap(registry.export_jsonl(name)).c_str(), stdout);
}

void run_import(Context& context, const ModelFlags& flags) {
  std::string text = unwrap(core::read_file(flags.file));
  Registry registry = open_registry(locate(context, flags));
  std::size_t count = unwrap(registry.import_jsonl(text));
  context.print({{"imported", count}}, fmt::format("imported {} records", count));
}

CLI::App* leaf(CLI::App* parent, const char* name, const char* description, std::shared_ptr<ModelFlags> flags) {
  CLI::App* command = parent->add_subcommand(name, description);
  add_registry_db_option(command, flags->registry_db);
  return command;
}

void add_reason(CLI::App* command, ModelFlags& flags) {
  command->add_option("--reason", flags.reason, "Why, recorded in the audit log")->option_text("TEXT");
}

}  // namespace

void add_model(CLI::App& app) {
  auto f = std::make_shared<ModelFlags>();
  CLI::App* model = app.add_subcommand("model", "The model registry: versions, aliases, promotions, audit history");
  model->require_subcommand(0, 1);

  CLI::App* c = leaf(model, "register", "Register a new version of a model, copying its artifact into the store", f);
  c->add_option("name", f->name, "The model name (a DNS-1123 label)")->required();
  c->add_option("--artifact", f->artifact, "The model file or directory")->required()->option_text("PATH");
  c->add_option("--metric", f->metrics, "A metric, NAME=NUMBER (repeatable)")->option_text("K=V");
  c->add_option("--param", f->params, "A parameter, NAME=VALUE (repeatable)")->option_text("K=V");
  c->add_option("--tag", f->tags, "A tag, NAME=VALUE (repeatable)")->option_text("K=V");
  c->add_option("--metrics-file", f->metrics_file, "A JSON object of metrics")->option_text("FILE");
  c->add_option("--flavor", f->flavor, "The model flavor (default: mlctl.yaml model.flavor, or generic)");
  c->add_option("--description", f->description, "A description of this version");
  c->add_option("--image", f->image, "The image that serves it, REF@sha256:...")->option_text("REF@DIGEST");
  c->add_option("--run", f->run, "The pipeline run that produced it")->option_text("RUN_ID");
  c->add_option("--dataset", f->datasets, "A dataset it was trained on, NAME=sha256:... (repeatable)")
      ->option_text("NAME=DIGEST");
  c->add_option("--artifact-store", f->artifact_store, "Where artifacts go: a path, s3://BUCKET/PREFIX, oci://REPO")
      ->option_text("LOCATION");
  add_reason(c, *f);
  on_run(c, [f](Context& context) { run_register(context, *f); });

  c = leaf(model, "list", "List models, or the versions of one", f);
  c->add_option("name", f->name, "A model: list its versions");
  c->add_option("--tag", f->tags, "Only versions with tag NAME=VALUE (repeatable)")->option_text("K=V");
  c->add_option("--where", f->where, "Only versions matching FIELD OP VALUE [and ...]")->option_text("EXPR");
  c->add_option("--sort", f->sort, "Sort by FIELD[:asc|:desc] (default: version:desc)")->option_text("FIELD");
  c->add_option("--limit", f->limit, "At most N versions (default 100)")->check(CLI::Range(1, 1'000'000))->option_text("N");
  c->add_option("--offset", f->offset, "Skip N versions")->check(CLI::NonNegativeNumber)->option_text("N");
  on_run(c, [f](Context& context) { run_list(context, *f); });

  c = leaf(model, "show", "Show a model, or a version: NAME, NAME@VERSION or NAME@ALIAS", f);
  c->add_option("ref", f->ref, "NAME[@VERSION|@ALIAS]")->required();
  on_run(c, [f](Context& context) { run_show(context, *f); });

  c = leaf(model, "update", "Change a model's own description and tags (its versions never change)", f);
  c->add_option("name", f->name, "The model")->required();
  CLI::Option* description = c->add_option("--description", f->description, "The model's new description");
  c->add_option("--tag", f->tags, "Set tag NAME=VALUE (repeatable)")->option_text("K=V");
  c->add_option("--untag", f->untags, "Remove tag NAME (repeatable)")->option_text("NAME");
  add_reason(c, *f);
  on_run(c, [f, description](Context& context) { run_update(context, *f, description->count() > 0); });

  c = leaf(model, "uri", "Print the artifact URI of NAME@VERSION or NAME@ALIAS", f);
  c->add_option("ref", f->ref, "NAME[@VERSION|@ALIAS]")->required();
  on_run(c, [f](Context& context) { run_uri(context, *f); });

  c = leaf(model, "pull", "Download a version's artifact and verify its digest", f);
  c->add_option("ref", f->ref, "NAME[@VERSION|@ALIAS]")->required();
  c->add_option("destination", f->destination, "Where to write it")->required();
  c->add_option("--artifact-store", f->artifact_store, "The artifact store to read from")->option_text("LOCATION");
  on_run(c, [f](Context& context) { run_pull(context, *f); });

  c = model->add_subcommand("fetch", "Download an artifact by its URI and verify its digest (no registry needed)");
  c->add_option("uri", f->uri, "The artifact's URI: file://, s3:// or oci://")->required();
  c->add_option("destination", f->destination, "Where to write it (must not exist)")->required();
  c->add_option("--digest", f->digest, "The artifact's digest, as registered")->required()->option_text("sha256:HEX");
  c->add_flag("--directory", f->directory, "The artifact is a directory (stored as its tar)");
  c->add_option("--size", f->size, "Its size in bytes, for progress")->option_text("N");
  on_run(c, [f](Context& context) { run_fetch(context, *f); });

  CLI::App* alias = model->add_subcommand("alias", "Set or unset an alias");
  alias->require_subcommand(0, 1);
  c = leaf(alias, "set", "Point ALIAS at VERSION", f);
  c->add_option("name", f->name, "The model")->required();
  c->add_option("alias", f->alias, "The alias")->required();
  c->add_option("version", f->version, "The version")->required()->check(CLI::PositiveNumber);
  add_reason(c, *f);
  on_run(c, [f](Context& context) {
    unwrap(models::check_model_name(f->name));
    unwrap(models::check_alias(f->alias));
    Registry registry = open_registry(locate(context, *f));
    print_alias_change(context, f->name, unwrap(registry.set_alias(f->name, f->alias, f->version, change(*f))));
  });
  c = leaf(alias, "unset", "Remove ALIAS", f);
  c->add_option("name", f->name, "The model")->required();
  c->add_option("alias", f->alias, "The alias")->required();
  add_reason(c, *f);
  on_run(c, [f](Context& context) {
    unwrap(models::check_model_name(f->name));
    unwrap(models::check_alias(f->alias));
    Registry registry = open_registry(locate(context, *f));
    print_alias_change(context, f->name, unwrap(registry.unset_alias(f->name, f->alias, change(*f))));
  });

  c = leaf(model, "promote", "Point an alias at a version if it passes the gate", f);
  c->add_option("name", f->name, "The model")->required();
  c->add_option("version", f->version, "The candidate version")->required()->check(CLI::PositiveNumber);
  c->add_option("--to", f->to, "The alias to move")->required()->option_text("ALIAS");
  c->add_option("--require", f->conditions, "A condition the candidate must meet (repeatable)")->option_text("EXPR");
  c->add_option("--require-better-than", f->better_than, "The candidate must beat this alias's version")
      ->option_text("ALIAS");
  c->add_option("--on", f->on, "The metric --require-better-than compares; larger is better")->option_text("metrics.KEY");
  add_reason(c, *f);
  on_run(c, [f](Context& context) { run_promote(context, *f); });

  c = leaf(model, "compare", "Params and metrics of two versions side by side", f);
  c->add_option("name", f->name, "The model")->required();
  c->add_option("v1", f->version, "A version")->required()->check(CLI::PositiveNumber);
  c->add_option("v2", f->version2, "Another version")->required()->check(CLI::PositiveNumber);
  on_run(c, [f](Context& context) { run_compare(context, *f); });

  for (bool archived : {true, false}) {
    c = leaf(model, archived ? "archive" : "restore",
             archived ? "Archive a version (it can no longer be aliased)" : "Restore an archived version", f);
    c->add_option("name", f->name, "The model")->required();
    c->add_option("version", f->version, "The version")->required()->check(CLI::PositiveNumber);
    add_reason(c, *f);
    on_run(c, [f, archived](Context& context) { run_archive(context, *f, archived); });
  }

  c = leaf(model, "history", "The audit log of a model, or where its aliases pointed at a time", f);
  c->add_option("name", f->name, "The model")->required();
  c->add_option("--alias", f->alias, "Only this alias")->option_text("ALIAS");
  c->add_option("--at", f->at, "Where the aliases pointed at TIME (RFC 3339 or YYYY-MM-DD)")->option_text("TIME");
  on_run(c, [f](Context& context) { run_history(context, *f); });

  c = leaf(model, "export", "Write models, versions, aliases and audit as JSON Lines to stdout", f);
  c->add_option("name", f->name, "Only this model");
  on_run(c, [f](Context& context) { run_export(context, *f); });

  c = leaf(model, "import", "Add the models of an export file", f);
  c->add_option("file", f->file, "A file written by 'mlctl model export'")->required();
  on_run(c, [f](Context& context) { run_import(context, *f); });
}

}  // namespace mlctl::cli
