#pragma once

#include "fake_api_server.hpp"

#include <functional>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mlctl::test {

// The Argo Server API (argo-server with --auth-mode=client) as far as the submit client uses it:
// creating Workflows, CronWorkflows and WorkflowTemplates in the namespaces it knows, reading a
// Workflow, and its logs as server-sent events. Create requests are checked against the
// WorkflowCreateRequest shapes of the upstream swagger; errors are grpc-gateway's
// {"code", "message"} with the upstream wording.
class FakeArgo {
public:
  static constexpr std::string_view k_token = "argo-token-4d1f9c27b8e5";

  FakeArgo();

  FakeApiServer& server() { return server_; }
  std::string url() const { return server_.url(); }

  // What GET returns as the workflow's status, one per request; the last one stays.
  void script(const std::string& name, std::vector<nlohmann::json> statuses);
  // The log lines of a workflow, as (pod name, content).
  void set_logs(const std::string& name, std::vector<std::pair<std::string, std::string>> lines);
  // Called with each Workflow created (its name, the object as stored) before the create request
  // is answered: where a test plays the cluster (runs the steps, scripts the status).
  void on_create(std::function<void(const std::string& name, const nlohmann::json& workflow)> hook);
  // A stored object: "workflows/ml-dev/train-x7k2p".
  std::optional<nlohmann::json> object(const std::string& key) const;
  // Deletes a stored object, as `argo delete` would: reading it is then 404.
  void remove(const std::string& key);

private:
  void create(const httplib::Request& req, httplib::Response& res, const std::string& collection,
              const std::string& namespace_name);
  void get_workflow(httplib::Response& res, const std::string& namespace_name, const std::string& name);
  void logs(const httplib::Request& req, httplib::Response& res, const std::string& name);
  // What is wrong with a create request, or "".
  std::string check_create(const std::string& collection, const std::string& namespace_name,
                           const nlohmann::json& request) const;

  std::set<std::string> namespaces_{"ml-dev"};
  mutable std::mutex mutex_;
  std::map<std::string, nlohmann::json> objects_;
  std::map<std::string, std::vector<nlohmann::json>> scripts_;
  std::map<std::string, std::vector<std::pair<std::string, std::string>>> logs_;
  int created_ = 0;
  std::function<void(const std::string&, const nlohmann::json&)> on_create_;
  // Last, so that it is destroyed first: its destructor waits for the requests in flight,
  // whose handlers use the members above.
  FakeApiServer server_;
};

}  // namespace mlctl::test
