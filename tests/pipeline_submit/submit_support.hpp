#pragma once

#include <mlctl/oci/remote/curl_transport.hpp>
#include <mlctl/pipeline/compile/options.hpp>
#include <mlctl/pipeline/submit/api_client.hpp>
#include <mlctl/pipeline/submit/poll.hpp>

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

// What the submit tests share: the transport, clients that record their retry sleeps, a clock
// that only moves when slept on, and the pipeline compiled for each backend.
namespace mlctl::pipeline::submit_test {

using std::chrono::milliseconds;

class FakeClock final : public Clock {
public:
  std::chrono::steady_clock::time_point now() override { return now_; }
  void sleep(milliseconds duration) override {
    sleeps.push_back(duration);
    now_ += duration;
  }

  std::vector<milliseconds> sleeps;

private:
  std::chrono::steady_clock::time_point now_{};
};

// libcurl, giving up on an answer that does not come within a second, so a stalled server
// fails a test quickly.
oci::remote::Transport& transport();

// A client of `url` with `token` whose retries sleep into `sleeps` instead of waiting.
ApiClient client(std::string_view url, std::string_view token, std::vector<milliseconds>& sleeps);

// tests/data/pipelines/train compiled for Argo as `kind`, and for KFP as YAML.
nlohmann::json train_argo(ArgoKind kind);
std::string train_kfp_yaml();

}  // namespace mlctl::pipeline::submit_test
