// `mlctl pipeline compile|submit|status|logs`: pipelines on Argo Workflows and Kubeflow Pipelines.
#include "pipeline_commands.hpp"
#include "version.hpp"

#include <mlctl/core/fs.hpp>
#include <mlctl/git/repo.hpp>
#include <mlctl/oci/remote/curl_transport.hpp>
#include <mlctl/pipeline/compile/argo.hpp>
#include <mlctl/pipeline/compile/kfp.hpp>
#include <mlctl/core/yaml_out.hpp>
#include <mlctl/pipeline/load.hpp>
#include <mlctl/pipeline/submit/argo.hpp>
#include <mlctl/pipeline/submit/kfp.hpp>
#include <mlctl/pipeline/values.hpp>

#include <iostream>

#include <fmt/format.h>

namespace mlctl::cli {

namespace {

namespace fs = std::filesystem;
using namespace pipeline;

enum class Backend { argo, kfp };

Backend backend(const PipelineFlags& flags) {
  if (flags.backend == "argo") return Backend::argo;
  if (flags.backend == "kfp") return Backend::kfp;
  throw Fatal{Error(Errc::invalid, fmt::format("--backend {}: expected argo or kfp", flags.backend))};
}

ArgoKind argo_kind(const std::string& kind) {
  if (kind == "auto") return ArgoKind::automatic;
  if (kind == "workflow") return ArgoKind::workflow;
  if (kind == "cron") return ArgoKind::cron_workflow;
  if (kind == "template") return ArgoKind::workflow_template;
  throw Fatal{Error(Errc::invalid, fmt::format("--kind {}: expected auto, workflow, cron or template", kind))};
}

ArtifactPassing artifact_passing(const std::string& artifacts) {
  if (artifacts == "volume") return ArtifactPassing::volume;
  if (artifacts == "s3") return ArtifactPassing::s3;
  throw Fatal{Error(Errc::invalid, fmt::format("--artifacts {}: expected volume or s3", artifacts))};
}

struct Compiled {
  Pipeline pipeline;
  CompileOptions options;
  nlohmann::json document;
};

// Compiles for the chosen backend, with the project's version and git commit as labels.
Compiled compile(const Context& context, const PipelineFlags& flags) {
  fs::path file = pipeline_file(context, flags.pipeline);
  Compiled compiled{.pipeline = unwrap(load_pipeline(file)), .options = {}, .document = {}};
  RegistryPlace place = locate_registry(context, flags.registry, fs::absolute(file).parent_path());
  CompileOptions& options = compiled.options;
  options.self_image = flags.image;
  options.tool_image = flags.tool_image;
  options.tool_version = k_version;
  options.pipeline_version = place.project ? place.project->version : "";
  if (auto repo = git::repo_state(place.project_root); repo && repo->commit) options.git_commit = *repo->commit;
  options.namespace_name = flags.namespace_name;
  options.params = parse_params(flags.params);
  options.kind = argo_kind(flags.kind);
  options.artifacts = artifact_passing(flags.artifacts);
  options.model = place.model;
  if (flags.stage_registrations) {
    options.stage_registrations = true;
    options.artifact_store = place.artifacts;
  }
  compiled.document = unwrap(backend(flags) == Backend::argo ? compile_argo(compiled.pipeline, options)
                                                             : compile_kfp(compiled.pipeline, options));
  return compiled;
}

void run_compile(Context& context, const PipelineFlags& flags) {
  Compiled compiled = compile(context, flags);
  std::string yaml = core::to_yaml(compiled.document);
  if (flags.output_file.empty()) {
    context.print(compiled.document, yaml);
    return;
  }
  unwrap(core::write_file_atomic(flags.output_file, yaml));
  context.print({{"file", flags.output_file}, {"backend", flags.backend}, {"kind", compiled.document.value("kind", "")}},
                fmt::format("wrote {}", flags.output_file));
}

// The server and its credentials; the token is read from a file so it never sits in argv.
struct Connection {
  oci::remote::CurlTransport transport{{.user_agent = fmt::format("mlctl/{}", k_version)}};
  std::optional<ApiClient> api;
};

void connect(Connection& connection, const PipelineFlags& flags) {
  if (flags.server.empty())
    throw Fatal{Error(Errc::invalid, "no server to talk to",
                      "pass --server URL (Argo Server: https://HOST:2746; Kubeflow Pipelines: its API's URL), "
                      "or set MLCTL_PIPELINE_SERVER")};
  std::string token = flags.token_file.empty() ? "" : unwrap(read_token_file(flags.token_file));
  ApiOptions options;
  options.insecure = flags.insecure ? oci::remote::Insecure::yes : oci::remote::Insecure::no;
  connection.api = unwrap(ApiClient::create(flags.server, connection.transport, std::move(token), options));
}

std::chrono::seconds duration_flag(const char* flag, const std::string& text) {
  auto seconds = parse_duration(text);
  if (!seconds) throw Fatal{Error(Errc::invalid, fmt::format("{} {}: {}", flag, text, seconds.error().message()))};
  return std::chrono::seconds(*seconds);
}

WaitOptions wait_options(const PipelineFlags& flags) {
  WaitOptions options;
  options.interval = duration_flag("--poll-interval", flags.poll_interval);
  options.max_interval = std::max<std::chrono::milliseconds>(options.interval, options.max_interval);
  options.timeout = duration_flag("--timeout", flags.timeout);
  return options;
}

std::string namespace_of(const PipelineFlags& flags) { return flags.namespace_name.empty() ? "default" : flags.namespace_name; }

nlohmann::json argo_json(const ArgoStatus& status) {
  nlohmann::json nodes = nlohmann::json::array();
  for (const auto& node : status.nodes)
    nodes.push_back({{"name", node.display_name}, {"type", node.type}, {"phase", to_string(node.phase)},
                     {"message", node.message}, {"started_at", node.started_at}, {"finished_at", node.finished_at},
                     {"pod", node.pod_name}});
  return {{"backend", "argo"},  {"namespace", status.namespace_name}, {"name", status.name},
          {"uid", status.uid},  {"phase", to_string(status.phase)},   {"message", status.message},
          {"started_at", status.started_at}, {"finished_at", status.finished_at}, {"nodes", nodes}};
}

std::string argo_text(const ArgoStatus& status) {
  std::vector<std::vector<std::string>> rows = {{"STEP", "TYPE", "PHASE", "MESSAGE"}};
  for (const auto& node : status.nodes)
    if (node.type != "DAG") rows.push_back({node.display_name, node.type, std::string(to_string(node.phase)), node.message});
  return fmt::format("workflow {}/{}: {}{}\n", status.namespace_name, status.name, to_string(status.phase),
                     status.message.empty() ? "" : " (" + status.message + ")") +
         format_table(rows);
}

nlohmann::json kfp_json(const KfpRun& run) {
  nlohmann::json tasks = nlohmann::json::array();
  for (const auto& task : run.tasks)
    tasks.push_back({{"name", task.display_name}, {"state", to_string(task.state)}, {"error", task.error},
                     {"pod", task.pod_name}});
  return {{"backend", "kfp"}, {"run_id", run.run_id}, {"name", run.display_name}, {"state", to_string(run.state)},
          {"error", run.error}, {"created_at", run.created_at}, {"finished_at", run.finished_at}, {"tasks", tasks}};
}

std::string kfp_text(const KfpRun& run) {
  std::vector<std::vector<std::string>> rows = {{"TASK", "STATE", "ERROR"}};
  for (const auto& task : run.tasks) rows.push_back({task.display_name, std::string(to_string(task.state)), task.error});
  return fmt::format("run {} ({}): {}{}\n", run.run_id, run.display_name, to_string(run.state),
                     run.error.empty() ? "" : " (" + run.error + ")") +
         format_table(rows);
}

// --wait ends with the run's outcome: exit 1 when it did not succeed.
void exit_unless(bool succeeded) {
  if (!succeeded) throw Exit{static_cast<int>(Errc::failed)};
}

// Waits for a submitted workflow to finish, reporting each change of its phase.
ArgoStatus wait_for_argo(Context& context, const PipelineFlags& flags, const ArgoServer& server,
                         const ArgoSubmitted& submitted) {
  context.reporter().step(fmt::format("submitted {}/{}; waiting for it to finish", submitted.namespace_name, submitted.name));
  ArgoPhase last = ArgoPhase::pending;
  return unwrap(argo_wait(server, submitted.namespace_name, submitted.name, wait_options(flags), steady_clock(),
                          [&](const ArgoStatus& seen) {
                            if (seen.phase != last) context.reporter().step(fmt::format("{}: {}", seen.name, to_string(seen.phase)));
                            last = seen.phase;
                          }));
}

void submit_to_argo(Context& context, const PipelineFlags& flags, const Compiled& compiled, const ArgoServer& server) {
  ArgoSubmitted submitted = unwrap(submit_argo(server, namespace_of(flags), compiled.document));
  std::string kind = compiled.document.value("kind", "Workflow");
  if (!flags.wait || submitted.kind != ArgoKind::workflow) {
    context.print({{"backend", "argo"}, {"kind", kind}, {"namespace", submitted.namespace_name},
                   {"name", submitted.name}, {"uid", submitted.uid}},
                  fmt::format("submitted {} {}/{}", kind, submitted.namespace_name, submitted.name));
    return;
  }
  ArgoStatus status = wait_for_argo(context, flags, server, submitted);
  context.print(argo_json(status), argo_text(status));
  exit_unless(status.phase == ArgoPhase::succeeded);
}

void submit_to_kfp(Context& context, const PipelineFlags& flags, const Compiled& compiled, const KfpServer& server) {
  const Pipeline& p = compiled.pipeline;
  std::string version = compiled.options.pipeline_version.empty() ? "0.0.0" : compiled.options.pipeline_version;
  if (!compiled.options.git_commit.empty()) version += "-" + compiled.options.git_commit.substr(0, 12);
  KfpSubmit submit{.pipeline_name = p.name.value,
                   .namespace_name = flags.namespace_name,
                   .version_name = version,
                   .spec_yaml = core::to_yaml(compiled.document),
                   .run_name = fmt::format("{}-{}", p.name.value, version),
                   .parameters = compiled.options.params,
                   .experiment_id = {},
                   .service_account = {},
                   .schedule = {}};
  // A scheduled pipeline becomes a recurring run, as it becomes a CronWorkflow on Argo.
  if (p.schedule && flags.kind != "workflow") submit.schedule = p.schedule->value;
  KfpSubmitted submitted = unwrap(submit_kfp(server, submit));
  if (submitted.recurring_run) {
    const KfpRecurringRun& recurring = *submitted.recurring_run;
    context.print({{"backend", "kfp"}, {"pipeline_id", submitted.pipeline.pipeline_id},
                   {"pipeline_version_id", submitted.version.pipeline_version_id}, {"version", version},
                   {"recurring_run_id", recurring.recurring_run_id}, {"cron", recurring.cron},
                   {"status", recurring.status}},
                  fmt::format("created recurring run {} of {} version {} (cron {})", recurring.recurring_run_id,
                              p.name.value, version, recurring.cron));
    return;
  }
  if (!flags.wait) {
    context.print({{"backend", "kfp"}, {"pipeline_id", submitted.pipeline.pipeline_id},
                   {"pipeline_version_id", submitted.version.pipeline_version_id}, {"version", version},
                   {"run_id", submitted.run.run_id}},
                  fmt::format("submitted run {} of {} version {}", submitted.run.run_id, p.name.value, version));
    return;
  }
  context.reporter().step(fmt::format("submitted run {}; waiting for it to finish", submitted.run.run_id));
  KfpState last = KfpState::unspecified;
  auto run = unwrap(kfp_wait_run(server, submitted.run.run_id, wait_options(flags), steady_clock(), [&](const KfpRun& seen) {
    if (seen.state != last) context.reporter().step(fmt::format("{}: {}", seen.run_id, to_string(seen.state)));
    last = seen.state;
  }));
  context.print(kfp_json(run), kfp_text(run));
  exit_unless(run.state == KfpState::succeeded);
}

void run_submit(Context& context, const PipelineFlags& flags) {
  Compiled compiled = compile(context, flags);
  Connection connection;
  connect(connection, flags);
  if (backend(flags) == Backend::argo) submit_to_argo(context, flags, compiled, ArgoServer{*connection.api});
  else submit_to_kfp(context, flags, compiled, KfpServer{*connection.api});
}

}  // namespace

ArgoStatus run_on_argo(Context& context, const PipelineFlags& flags,
                       const std::function<void(const ArgoSubmitted&)>& submitted) {
  PipelineFlags workflow = flags;
  workflow.backend = "argo";
  workflow.kind = "workflow";
  Compiled compiled = compile(context, workflow);
  Connection connection;
  connect(connection, workflow);
  ArgoServer server{*connection.api};
  ArgoSubmitted created = unwrap(submit_argo(server, namespace_of(workflow), compiled.document));
  submitted(created);
  return wait_for_argo(context, workflow, server, created);
}

std::optional<ArgoStatus> wait_on_argo(Context& context, const PipelineFlags& flags, const std::string& name) {
  Connection connection;
  connect(connection, flags);
  ArgoServer server{*connection.api};
  auto status = argo_status(server, namespace_of(flags), name);
  if (!status && status.error().code() == Errc::not_found) return std::nullopt;
  if (!status) throw Fatal{std::move(status.error())};
  return wait_for_argo(context, flags, server, {.kind = ArgoKind::workflow, .namespace_name = namespace_of(flags),
                                                .name = name, .uid = status->uid});
}

namespace {

void run_status(Context& context, const PipelineFlags& flags) {
  Connection connection;
  connect(connection, flags);
  if (backend(flags) == Backend::argo) {
    auto status = unwrap(argo_status(ArgoServer{*connection.api}, namespace_of(flags), flags.pipeline));
    context.print(argo_json(status), argo_text(status));
  } else {
    auto run = unwrap(kfp_run_status(KfpServer{*connection.api}, flags.pipeline));
    context.print(kfp_json(run), kfp_text(run));
  }
}

void run_logs(Context& context, const PipelineFlags& flags) {
  if (backend(flags) == Backend::kfp)
    throw Fatal{Error(Errc::invalid, "the Kubeflow Pipelines API serves no logs",
                      "read them from the task's pod: `mlctl pipeline status RUN --backend kfp` names each "
                      "task's pod, then `kubectl logs POD -c main`")};
  Connection connection;
  connect(connection, flags);
  ArgoLogOptions options;
  options.step = flags.step;
  if (flags.tail >= 0) options.tail_lines = flags.tail;
  auto lines = unwrap(argo_logs(ArgoServer{*connection.api}, namespace_of(flags), flags.pipeline, options));
  nlohmann::json document = nlohmann::json::array();
  std::string text;
  for (const auto& line : lines) {
    document.push_back({{"pod", line.pod_name}, {"content", line.content}});
    text += fmt::format("{} | {}\n", line.pod_name, line.content);
  }
  context.print(document, text);
}

void add_compile_options(CLI::App* command, PipelineFlags& flags) {
  command->add_option("pipeline", flags.pipeline, "NAME or FILE")->required();
  command->add_option("--backend", flags.backend, "argo (default) or kfp")->option_text("argo|kfp");
  command->add_option("--image", flags.image, "The project image 'image: self' means, pinned by digest")
      ->option_text("REF@DIGEST")
      ->envname("MLCTL_IMAGE");
  command->add_option("--tool-image", flags.tool_image, "The mlctl image that runs 'uses:' steps")
      ->option_text("REF")
      ->envname("MLCTL_TOOL_IMAGE");
  command->add_option("--param", flags.params, "Override a param's default, NAME=VALUE (repeatable)")->option_text("K=V");
  command->add_option("--kind", flags.kind, "argo: auto (a CronWorkflow with a schedule), workflow, cron, template")
      ->option_text("KIND");
  command->add_option("--artifacts", flags.artifacts, "argo: outputs on a shared volume (default) or in s3")
      ->option_text("volume|s3");
  command->add_option("-n,--namespace", flags.namespace_name, "The namespace (default: default)")->option_text("NS");
}

void add_server_options(CLI::App* command, PipelineFlags& flags) {
  command->add_option("--server", flags.server, "The Argo Server or Kubeflow Pipelines API URL")
      ->option_text("URL")
      ->envname("MLCTL_PIPELINE_SERVER");
  command->add_option("--token-file", flags.token_file, "A file holding the bearer token")
      ->option_text("FILE")
      ->envname("MLCTL_PIPELINE_TOKEN_FILE");
  command->add_flag("--insecure", flags.insecure, "Do not check the server's TLS certificate; allow the token over plain HTTP");
}

}  // namespace

void add_pipeline_remote_commands(CLI::App* group, const std::shared_ptr<PipelineFlags>& flags) {
  CLI::App* compile_command = group->add_subcommand("compile", "Compile a pipeline to an Argo Workflow or a KFP pipeline spec");
  add_compile_options(compile_command, *flags);
  compile_command->add_option("-o,--output-file", flags->output_file, "Write it to FILE (default: stdout)")->option_text("FILE");
  on_run(compile_command, [flags](Context& context) { run_compile(context, *flags); });

  CLI::App* submit = group->add_subcommand("submit", "Compile a pipeline and submit it to Argo Workflows or Kubeflow Pipelines");
  add_compile_options(submit, *flags);
  add_server_options(submit, *flags);
  submit->add_flag("--wait", flags->wait, "Wait until the run finishes; exit 1 unless it succeeded");
  submit->add_option("--timeout", flags->timeout, "Give up waiting after this long (default 1h)")->option_text("DURATION");
  submit->add_option("--poll-interval", flags->poll_interval, "First wait between polls, doubling up to 30s (default 2s)")
      ->option_text("DURATION");
  on_run(submit, [flags](Context& context) { run_submit(context, *flags); });

  CLI::App* status = group->add_subcommand("status", "Show a submitted run: its phase and each step's");
  status->add_option("run", flags->pipeline, "The Argo workflow's name, or the KFP run id")->required();
  status->add_option("--backend", flags->backend, "argo (default) or kfp")->option_text("argo|kfp");
  status->add_option("-n,--namespace", flags->namespace_name, "argo: the workflow's namespace (default: default)")
      ->option_text("NS");
  add_server_options(status, *flags);
  on_run(status, [flags](Context& context) { run_status(context, *flags); });

  CLI::App* logs = group->add_subcommand("logs", "Print the logs of a submitted Argo workflow's steps");
  logs->add_option("run", flags->pipeline, "The Argo workflow's name")->required();
  logs->add_option("--backend", flags->backend, "argo (default); kfp serves no logs")->option_text("argo|kfp");
  logs->add_option("-n,--namespace", flags->namespace_name, "The workflow's namespace (default: default)")->option_text("NS");
  logs->add_option("--step", flags->step, "Only this step's pods")->option_text("STEP");
  logs->add_option("--tail", flags->tail, "The last N lines of each pod")->check(CLI::NonNegativeNumber)->option_text("N");
  add_server_options(logs, *flags);
  on_run(logs, [flags](Context& context) { run_logs(context, *flags); });
}

}  // namespace mlctl::cli
