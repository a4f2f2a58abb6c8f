#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace mlctl::test {

// An in-process OCI registry on 127.0.0.1 (an ephemeral port), in memory, built on
// cpp-httplib: enough of the distribution API for the client's protocol tests, with auth modes,
// failure injection and a record of every request.
enum class FakeAuth { none, basic, bearer };

struct FakeRegistryOptions {
  FakeAuth auth = FakeAuth::none;
  std::string username;
  std::string password;
  bool accept_tokens = true;  // false: every token is refused, as if revoked
  bool allow_mounts = true;   // false: mount requests get 202 and an upload session
};

class FakeRegistry {
public:
  using Auth = FakeAuth;
  using Options = FakeRegistryOptions;

  struct Seen {
    std::string method;
    std::string path;
    std::multimap<std::string, std::string> params;
    std::string authorization;
    std::string content_range;
    std::string content_type;
    size_t body_size = 0;
  };

  FakeRegistry() : FakeRegistry(Options()) {}
  explicit FakeRegistry(Options options);
  ~FakeRegistry();
  FakeRegistry(const FakeRegistry&) = delete;
  FakeRegistry& operator=(const FakeRegistry&) = delete;

  // "127.0.0.1:PORT"
  std::string host() const;

  // The next `count` requests with this method whose path contains `path_part` get `status`
  // (with Retry-After when given) instead of being served.
  void fail_next(std::string method, std::string path_part, int status, int count = 1,
                 std::optional<int> retry_after = std::nullopt);
  // The next `count` matching requests are read whole, then the connection is closed before a
  // complete response is sent.
  void drop_next(std::string method, std::string path_part, int count = 1);

  // Every token issued so far stops working, as when they expire.
  void revoke_tokens();

  std::vector<Seen> requests() const;
  // Requests other than the token endpoint's with this method.
  std::vector<Seen> requests(std::string_view method) const;
  std::optional<std::string> blob(const std::string& repository, const std::string& digest) const;
  std::optional<std::string> manifest(const std::string& repository, const std::string& reference) const;
  void put_blob(const std::string& repository, const std::string& content);

private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace mlctl::test
