#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace mlctl::test {

// What the proxy does to a request that matches (method and path) while the rule has turns left.
struct FaultRule {
  enum class Action {
    drop,    // forward `after_bytes` of the request body, then close both connections
    status,  // answer `status` without forwarding (the body is read and discarded first)
    stall,   // hold the request for `stall`, then forward it
    // forward the request, wait for the whole response, then pass the client its head whole and
    // `after_bytes` of its body, and close: the registry acted, the client never hears it all
    truncate,
  };
  Action action = Action::drop;
  std::vector<std::string> methods{};  // empty: any method
  std::string path_contains{};         // empty: any path
  int times = 1;                       // how many matching requests it hits; -1: every one
  // For drop: a body shorter than this is cut in its middle instead, so a small blob is still
  // dropped mid-upload. Requests with an empty body (Content-Length: 0) never match a drop.
  // For truncate, the same with the response body; a response without one (to HEAD, or a 201
  // with Content-Length: 0) has its head cut in its middle instead, so no response is ever whole.
  std::size_t after_bytes = 0;
  int status = 503;
  std::chrono::milliseconds stall{0};
};

// A TCP proxy on 127.0.0.1:<free port> in front of a real registry (or any HTTP/1.1 server),
// applying FaultRules to the requests that pass. It sends every request upstream with
// `Connection: close`, so each client connection carries exactly one request and the proxy never
// has to find where a body ends. The Host header is kept, so the registry builds its upload
// Location URLs with the proxy's address; a Location that names the upstream is rewritten too,
// so clients keep going through the proxy. Every wait is bounded; the destructor ends all
// connections and joins their threads.
class FaultProxy {
public:
  // `upstream` is "127.0.0.1:PORT". Throws std::runtime_error when it cannot listen.
  FaultProxy(std::string upstream, std::vector<FaultRule> rules);
  ~FaultProxy();
  FaultProxy(const FaultProxy&) = delete;
  FaultProxy& operator=(const FaultProxy&) = delete;

  // "127.0.0.1:PORT"
  std::string host() const { return "127.0.0.1:" + std::to_string(port_); }

  // How many requests rule `index` has hit so far.
  int fired(std::size_t index) const;
  // Every request seen, in arrival order, as "METHOD /path?query".
  std::vector<std::string> requests() const;
  // When each request of requests() arrived, so a test can measure the wait before a retry.
  std::vector<std::chrono::steady_clock::time_point> arrivals() const;
  // "METHOD /path" lines of the requests the proxy faulted, with what it did.
  std::vector<std::string> faults() const;

private:
  struct Matched {
    int rule = -1;  // -1: none
    FaultRule::Action action = FaultRule::Action::drop;
  };

  void accept_loop();
  void serve(int client);
  Matched match(const std::string& method, const std::string& target, long long content_length);
  void record_fault(const std::string& line);
  // Sleeps up to `duration`, returning early (false) when the proxy is stopping.
  bool sleep_unless_stopping(std::chrono::milliseconds duration);

  std::string upstream_;
  std::vector<FaultRule> rules_;
  int listener_ = -1;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  mutable std::mutex mutex_;
  std::condition_variable stop_signal_;
  std::vector<int> fired_;
  std::vector<std::string> requests_;
  std::vector<std::chrono::steady_clock::time_point> arrivals_;
  std::vector<std::string> faults_;
  std::vector<std::thread> connections_;
  std::thread acceptor_;
};

}  // namespace mlctl::test
