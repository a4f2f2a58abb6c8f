#pragma once

#include <mlctl/core/error.hpp>

#include <memory>
#include <string>
#include <string_view>

namespace mlctl::core {

// Streaming SHA-256 through OpenSSL's EVP interface (the fastest implementation on the machine).
class Sha256 {
public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  void update(std::string_view data);
  void update(const void* data, size_t size);
  // The lowercase hex digest; the object cannot be updated afterwards.
  std::string hex();

private:
  struct State;
  std::unique_ptr<State> state_;
};

std::string sha256_hex(std::string_view data);

// "sha256:<64 hex>" for data.
std::string sha256_digest(std::string_view data);

// Checks the OCI digest form "sha256:<64 lowercase hex>" (the only algorithm mlctl writes).
Result<void> check_sha256_digest(std::string_view digest);

}  // namespace mlctl::core
