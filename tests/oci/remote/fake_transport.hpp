#pragma once

#include <mlctl/oci/remote/transport.hpp>

#include <functional>
#include <mutex>
#include <string>
#include <vector>

namespace mlctl::test {

// A transport answered by a function, recording every request: for the client's error paths
// without a server.
class FakeTransport final : public oci::remote::Transport {
public:
  struct Sent {
    std::string method;
    std::string url;
    oci::remote::Headers headers;
    std::string body;
    bool verify_tls = true;
  };
  using Handler = std::function<oci::remote::RegistryResult<oci::remote::Response>(const oci::remote::Request&)>;

  explicit FakeTransport(Handler handler) : handler_(std::move(handler)) {}

  oci::remote::RegistryResult<oci::remote::Response> send(const oci::remote::Request& request) override {
    {
      std::lock_guard lock(mutex_);
      std::string body;
      if (const auto* bytes = std::get_if<std::string_view>(&request.body)) body = *bytes;
      sent_.push_back({request.method, request.url, request.headers, body, request.verify_tls});
    }
    return handler_(request);
  }

  std::vector<Sent> sent() const {
    std::lock_guard lock(mutex_);
    return sent_;
  }

private:
  Handler handler_;
  mutable std::mutex mutex_;
  std::vector<Sent> sent_;
};

// A response as a server would send it; a 2xx body goes to the request's sink when it has one.
inline oci::remote::Response respond(const oci::remote::Request& request, int status,
                                     oci::remote::Headers headers = {}, std::string body = {}) {
  oci::remote::Response response{status, std::move(headers), {}};
  if (request.sink && status >= 200 && status < 300) {
    request.sink->reset();
    request.sink->write(body);
  } else {
    response.body = std::move(body);
  }
  return response;
}

}  // namespace mlctl::test
