#pragma once

#include "fake_api_server.hpp"

#include <map>
#include <optional>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace mlctl::test {

// The Kubeflow Pipelines v2beta1 API as far as the submit client uses it: pipelines by name,
// creating a pipeline, uploading a pipeline version (multipart/form-data, "uploadfile"), creating
// and reading runs. Requests are checked against the upstream swagger (and the uploaded file
// must be a YAML pipeline spec); errors are worded as the KFP API server words them: grpc-gateway
// {"error", "code", "message"}, and {"error_message", "error_details"} from the upload handler.
class FakeKfp {
public:
  static constexpr std::string_view k_token = "kfp-token-93be0c4a7f12";

  FakeKfp();

  FakeApiServer& server() { return server_; }
  std::string url() const { return server_.url(); }

  // What GET returns for the run, one per request: "state", "error" and "run_details" replace
  // the stored run's; the last one stays.
  void script(const std::string& run_id, std::vector<nlohmann::json> updates);
  // The spec uploaded as a pipeline version.
  std::string uploaded(const std::string& version_id) const;
  // A recurring run as the server stored it.
  std::optional<nlohmann::json> recurring_run(const std::string& id) const;

private:
  void find_pipeline(const httplib::Request& req, httplib::Response& res, const std::string& name);
  void create_pipeline(const httplib::Request& req, httplib::Response& res);
  void upload_version(const httplib::Request& req, httplib::Response& res);
  void create_run(const httplib::Request& req, httplib::Response& res);
  void get_run(httplib::Response& res, const std::string& run_id);
  void create_recurring_run(const httplib::Request& req, httplib::Response& res);
  // What is wrong with an upload or a run, or "".
  std::string check_upload(const httplib::Request& req) const;
  std::string check_run(const nlohmann::json& run) const;
  std::string check_recurring_run(const nlohmann::json& run) const;

  mutable std::mutex mutex_;
  std::map<std::string, nlohmann::json> pipelines_;  // by id
  std::map<std::string, nlohmann::json> versions_;   // by id
  std::map<std::string, std::string> specs_;         // by version id
  std::map<std::string, nlohmann::json> runs_;       // by id
  std::map<std::string, nlohmann::json> recurring_runs_;  // by id
  std::map<std::string, std::vector<nlohmann::json>> scripts_;
  // Last, so that it is destroyed first: its destructor waits for the requests in flight,
  // whose handlers use the members above.
  FakeApiServer server_;
};

}  // namespace mlctl::test
