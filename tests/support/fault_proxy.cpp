#include <support/fault_proxy.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <optional>
#include <stdexcept>
#include <utility>

namespace mlctl::test {

namespace {

using Clock = std::chrono::steady_clock;
constexpr auto k_poll_ms = 100;
constexpr auto k_head_timeout = std::chrono::seconds(30);
// A connection with no traffic either way for this long is closed.
constexpr auto k_idle_timeout = std::chrono::seconds(60);
constexpr std::size_t k_max_head = 64 * 1024;
constexpr std::size_t k_buffer = 64 * 1024;

struct Head {
  std::string start_line;
  std::vector<std::pair<std::string, std::string>> headers;

  std::optional<std::string> header(std::string_view name) const {
    for (const auto& [key, value] : headers)
      if (std::ranges::equal(key, name, [](char a, char b) { return std::tolower(a) == std::tolower(b); }))
        return value;
    return std::nullopt;
  }
};

std::string lower(std::string text) {
  std::ranges::transform(text, text.begin(), [](unsigned char c) { return std::tolower(c); });
  return text;
}

std::string trim(std::string_view text) {
  auto first = text.find_first_not_of(" \t");
  if (first == std::string_view::npos) return {};
  auto last = text.find_last_not_of(" \t");
  return std::string(text.substr(first, last - first + 1));
}

// `raw` is everything up to and including the blank line.
Head parse_head(std::string_view raw) {
  Head head;
  std::size_t pos = 0;
  bool first = true;
  while (pos < raw.size()) {
    auto end = raw.find("\r\n", pos);
    if (end == std::string_view::npos || end == pos) break;
    std::string_view line = raw.substr(pos, end - pos);
    pos = end + 2;
    if (first) {
      head.start_line = std::string(line);
      first = false;
      continue;
    }
    auto colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    head.headers.emplace_back(trim(line.substr(0, colon)), trim(line.substr(colon + 1)));
  }
  return head;
}

std::string serialize(const Head& head) {
  std::string out = head.start_line + "\r\n";
  for (const auto& [key, value] : head.headers) out += key + ": " + value + "\r\n";
  return out + "\r\n";
}

bool send_all(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t sent = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (sent < 0 && errno == EINTR) continue;
    if (sent <= 0) return false;
    data.remove_prefix(static_cast<std::size_t>(sent));
  }
  return true;
}

// Bounds every blocking send, so a peer that stops reading cannot hang a connection thread.
void set_send_timeout(int fd) {
  timeval timeout{.tv_sec = 30, .tv_usec = 0};
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
}

// Waits until `fd` is readable; false on timeout or when `stopping` is set.
bool wait_readable(int fd, Clock::time_point deadline, const std::atomic<bool>& stopping) {
  while (!stopping && Clock::now() < deadline) {
    pollfd entry{.fd = fd, .events = POLLIN, .revents = 0};
    int ready = ::poll(&entry, 1, k_poll_ms);
    if (ready > 0) return true;
    if (ready < 0 && errno != EINTR) return false;
  }
  return false;
}

std::string reason(int status) {
  switch (status) {
  case 429: return "Too Many Requests";
  case 500: return "Internal Server Error";
  case 502: return "Bad Gateway";
  case 503: return "Service Unavailable";
  default: return "Error";
  }
}

std::string error_response(int status) {
  std::string code = status == 429 ? "TOOMANYREQUESTS" : status == 503 ? "UNAVAILABLE" : "UNKNOWN";
  std::string body = R"({"errors":[{"code":")" + code + R"(","message":"injected by the test fault proxy"}]})";
  std::string out = "HTTP/1.1 " + std::to_string(status) + " " + reason(status) + "\r\n" +
                    "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
  if (status == 429 || status == 503) out += "Retry-After: 1\r\n";
  return out + "Connection: close\r\n\r\n" + body;
}

std::string action_name(FaultRule::Action action) {
  switch (action) {
  case FaultRule::Action::drop: return "dropped";
  case FaultRule::Action::status: return "answered";
  case FaultRule::Action::stall: return "stalled";
  case FaultRule::Action::truncate: return "truncated";
  }
  return "?";
}

class Socket {
public:
  explicit Socket(int fd) : fd_(fd) {}
  ~Socket() {
    if (fd_ >= 0) ::close(fd_);
  }
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;
  int get() const { return fd_; }

private:
  int fd_;
};

int connect_loopback(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  set_send_timeout(fd);
  return fd;
}

}  // namespace

FaultProxy::FaultProxy(std::string upstream, std::vector<FaultRule> rules)
    : upstream_(std::move(upstream)), rules_(std::move(rules)), fired_(rules_.size(), 0) {
  listener_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof addr;
  if (listener_ < 0 || ::bind(listener_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(listener_, 64) != 0 || ::getsockname(listener_, reinterpret_cast<sockaddr*>(&addr), &length) != 0) {
    if (listener_ >= 0) ::close(listener_);
    throw std::runtime_error("fault proxy: cannot listen on 127.0.0.1");
  }
  port_ = ntohs(addr.sin_port);
  acceptor_ = std::thread([this] { accept_loop(); });
}

FaultProxy::~FaultProxy() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  stop_signal_.notify_all();
  acceptor_.join();
  ::close(listener_);
  // The acceptor has ended, so nothing adds to connections_ any more.
  for (auto& connection : connections_) connection.join();
}

int FaultProxy::fired(std::size_t index) const {
  std::lock_guard lock(mutex_);
  return index < fired_.size() ? fired_[index] : 0;
}

std::vector<std::string> FaultProxy::requests() const {
  std::lock_guard lock(mutex_);
  return requests_;
}

std::vector<Clock::time_point> FaultProxy::arrivals() const {
  std::lock_guard lock(mutex_);
  return arrivals_;
}

std::vector<std::string> FaultProxy::faults() const {
  std::lock_guard lock(mutex_);
  return faults_;
}

void FaultProxy::accept_loop() {
  while (!stopping_) {
    pollfd entry{.fd = listener_, .events = POLLIN, .revents = 0};
    if (::poll(&entry, 1, k_poll_ms) <= 0) continue;
    int client = ::accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
    if (client < 0) continue;
    set_send_timeout(client);
    std::lock_guard lock(mutex_);
    connections_.emplace_back([this, client] { serve(client); });
  }
}

FaultProxy::Matched FaultProxy::match(const std::string& method, const std::string& target,
                                      long long content_length) {
  std::lock_guard lock(mutex_);
  requests_.push_back(method + " " + target);
  arrivals_.push_back(Clock::now());
  for (std::size_t i = 0; i < rules_.size(); ++i) {
    FaultRule& rule = rules_[i];
    if (rule.times == 0) continue;
    if (!rule.methods.empty() && std::ranges::find(rule.methods, method) == rule.methods.end()) continue;
    if (target.find(rule.path_contains) == std::string::npos) continue;
    if (rule.action == FaultRule::Action::drop && content_length == 0) continue;
    if (rule.times > 0) --rule.times;
    return {static_cast<int>(i), rule.action};
  }
  return {};
}

void FaultProxy::record_fault(const std::string& line) {
  std::lock_guard lock(mutex_);
  faults_.push_back(line);
}

bool FaultProxy::sleep_unless_stopping(std::chrono::milliseconds duration) {
  std::unique_lock lock(mutex_);
  return !stop_signal_.wait_for(lock, duration, [this] { return stopping_.load(); });
}

void FaultProxy::serve(int client_fd) {
  Socket client(client_fd);
  std::string buffer;
  char chunk[k_buffer];
  auto head_deadline = Clock::now() + k_head_timeout;
  std::size_t head_end = std::string::npos;
  while ((head_end = buffer.find("\r\n\r\n")) == std::string::npos) {
    if (buffer.size() > k_max_head || !wait_readable(client.get(), head_deadline, stopping_)) return;
    ssize_t got = ::recv(client.get(), chunk, sizeof chunk, 0);
    if (got <= 0) return;
    buffer.append(chunk, static_cast<std::size_t>(got));
  }
  Head request = parse_head(std::string_view(buffer).substr(0, head_end + 4));
  std::string body_start = buffer.substr(head_end + 4);
  auto space = request.start_line.find(' ');
  auto second = request.start_line.find(' ', space + 1);
  if (space == std::string::npos || second == std::string::npos) return;
  std::string method = request.start_line.substr(0, space);
  std::string target = request.start_line.substr(space + 1, second - space - 1);
  long long content_length = 0;
  if (request.header("Transfer-Encoding")) content_length = -1;
  else if (auto value = request.header("Content-Length")) content_length = std::stoll(*value);

  Matched matched = match(method, target, content_length);
  const FaultRule* rule = matched.rule >= 0 ? &rules_[static_cast<std::size_t>(matched.rule)] : nullptr;
  auto count = [&] {
    std::lock_guard lock(mutex_);
    ++fired_[static_cast<std::size_t>(matched.rule)];
  };
  std::string request_line = method + " " + target;

  if (rule && matched.action == FaultRule::Action::status) {
    // With Expect: 100-continue the client sends no body until told to, so answer at once.
    bool expects_continue = lower(request.header("Expect").value_or("")) == "100-continue";
    long long remaining = expects_continue ? 0 : content_length - static_cast<long long>(body_start.size());
    auto deadline = Clock::now() + std::chrono::seconds(10);
    while (remaining > 0 && wait_readable(client.get(), deadline, stopping_)) {
      ssize_t got = ::recv(client.get(), chunk, sizeof chunk, 0);
      if (got <= 0) break;
      remaining -= got;
    }
    count();
    record_fault(request_line + " " + action_name(matched.action) + " " + std::to_string(rule->status));
    send_all(client.get(), error_response(rule->status));
    ::shutdown(client.get(), SHUT_RDWR);
    return;
  }
  if (rule && matched.action == FaultRule::Action::stall) {
    count();
    record_fault(request_line + " " + action_name(matched.action));
    if (!sleep_unless_stopping(rule->stall)) return;
  }

  // The body bytes to pass before dropping; none when this request is not being dropped.
  std::optional<std::size_t> drop_at;
  if (rule && matched.action == FaultRule::Action::drop)
    drop_at = content_length > 0 ? std::min<std::size_t>(rule->after_bytes, static_cast<std::size_t>(content_length / 2))
                                 : rule->after_bytes;

  int upstream_port = std::stoi(upstream_.substr(upstream_.rfind(':') + 1));
  Socket upstream(connect_loopback(upstream_port));
  if (upstream.get() < 0) {
    send_all(client.get(), error_response(502));
    return;
  }
  std::erase_if(request.headers, [](const auto& header) {
    std::string name = lower(header.first);
    return name == "connection" || name == "keep-alive" || name == "proxy-connection";
  });
  request.headers.emplace_back("Connection", "close");
  if (!send_all(upstream.get(), serialize(request))) return;

  std::size_t body_sent = 0;
  auto drop = [&] {
    count();
    record_fault(request_line + " " + action_name(FaultRule::Action::drop) + " after " + std::to_string(body_sent) +
                 " bytes");
    ::shutdown(client.get(), SHUT_RDWR);
    ::shutdown(upstream.get(), SHUT_RDWR);
  };
  // Forwards body bytes, stopping at the drop point; false once the connection is dropped.
  auto forward_body = [&](std::string_view data) {
    if (drop_at) data = data.substr(0, std::min(data.size(), *drop_at - body_sent));
    if (!send_all(upstream.get(), data)) return false;
    body_sent += data.size();
    if (drop_at && body_sent >= *drop_at) {
      drop();
      return false;
    }
    return true;
  };
  if ((!body_start.empty() || drop_at == std::size_t{0}) && !forward_body(body_start)) return;

  const bool truncating = rule && matched.action == FaultRule::Action::truncate;
  // A response to truncate is held until upstream has sent all of it, since where it is cut
  // depends on whether it has a body; its final head ends at `held_body`.
  std::string held;
  std::size_t held_body = 0;
  auto deliver = [&](std::string_view data) {
    if (!truncating) return send_all(client.get(), data);
    held.append(data);
    return true;
  };
  auto send_truncated = [&] {
    std::size_t body = held.size() - held_body;
    std::size_t keep = body == 0 ? held_body / 2 : held_body + std::min(rule->after_bytes, body / 2);
    count();
    record_fault(request_line + " " + action_name(FaultRule::Action::truncate) + " to " +
                 (body == 0 ? std::to_string(keep) + " of " + std::to_string(held_body) + " head bytes"
                            : std::to_string(keep - held_body) + " of " + std::to_string(body) + " body bytes"));
    send_all(client.get(), std::string_view(held).substr(0, keep));
    ::shutdown(client.get(), SHUT_RDWR);
  };

  std::string response;  // response bytes until the final (non-1xx) head has been rewritten
  bool response_head_done = false;
  const std::string upstream_origin = "//" + upstream_;
  const std::string proxy_origin = "//" + host();
  auto forward_response = [&](std::string_view data) {
    if (response_head_done) return deliver(data);
    response.append(data);
    std::size_t end;
    while (!response_head_done && (end = response.find("\r\n\r\n")) != std::string::npos) {
      Head head = parse_head(std::string_view(response).substr(0, end + 4));
      for (auto& [key, value] : head.headers)
        if (lower(key) == "location")
          if (auto at = value.find(upstream_origin); at != std::string::npos)
            value.replace(at, upstream_origin.size(), proxy_origin);
      bool interim = head.start_line.size() > 9 && head.start_line[9] == '1';
      response_head_done = !interim;
      if (!deliver(serialize(head))) return false;
      held_body = held.size();
      response.erase(0, end + 4);
    }
    if (response_head_done && !response.empty()) {
      bool sent = deliver(response);
      response.clear();
      return sent;
    }
    return true;
  };

  auto idle_deadline = Clock::now() + k_idle_timeout;
  while (!stopping_ && Clock::now() < idle_deadline) {
    pollfd entries[2] = {{.fd = client.get(), .events = POLLIN, .revents = 0},
                         {.fd = upstream.get(), .events = POLLIN, .revents = 0}};
    int ready = ::poll(entries, 2, k_poll_ms);
    if (ready < 0 && errno != EINTR) return;
    if (ready <= 0) continue;
    idle_deadline = Clock::now() + k_idle_timeout;
    if (entries[1].revents & (POLLIN | POLLHUP | POLLERR)) {
      ssize_t got = ::recv(upstream.get(), chunk, sizeof chunk, 0);
      if (got <= 0) {  // the response is complete (Connection: close) or upstream failed
        if (truncating && response_head_done) send_truncated();
        return;
      }
      if (!forward_response(std::string_view(chunk, static_cast<std::size_t>(got)))) return;
    }
    if (entries[0].revents & (POLLIN | POLLHUP | POLLERR)) {
      ssize_t got = ::recv(client.get(), chunk, sizeof chunk, 0);
      if (got <= 0) return;
      if (!forward_body(std::string_view(chunk, static_cast<std::size_t>(got)))) return;
    }
  }
}

}  // namespace mlctl::test
