#pragma once

#include <support/temp_dir.hpp>

#include <sys/types.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace mlctl::test {

// A server process listening on 127.0.0.1:`port`, its stdout and stderr in `log`; the
// constructor returns once it accepts connections (throws std::runtime_error when it cannot
// start or exits, naming `what`); the destructor stops it.
class ServerProcess {
public:
  ServerProcess(std::vector<std::string> argv, int port, std::filesystem::path log, std::string what);
  ~ServerProcess();
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  std::string log() const;

private:
  std::filesystem::path log_;
  pid_t pid_ = -1;
};

// A test server on 127.0.0.1 and a free port, with a temporary folder.
class LoopbackServer {
public:
  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(port_); }
  std::string log() const { return process_->log(); }

protected:
  TempDir dir_;
  int port_ = 0;
  std::unique_ptr<ServerProcess> process_;
};

// s3rver (an S3-compatible server from npm, installed into a cache folder by
// scripts/install-npm-deps), with the bucket `models`, storing in its folder and logging every
// request. Its one account is access key "S3RVER", secret "S3RVER". It checks the access key id
// and the form of SigV4 headers (x-amz-date, x-amz-content-sha256), not the signature itself
// (SigV4Proxy does). Throws std::runtime_error when it cannot start (a missing node or npm is a
// failure, never a skip).
class S3Server : public LoopbackServer {
public:
  S3Server();
};

// tests/models/artifacts/sigv4_proxy.py in front of `upstream`: checks each request's SigV4
// signature with botocore (independent of libcurl's signer) for the given key pair and region,
// passes good requests on and refuses the others with 403 SignatureDoesNotMatch. Its log has one
// "verified METHOD PATH" or "SignatureDoesNotMatch METHOD PATH" line per request.
class SigV4Proxy : public LoopbackServer {
public:
  SigV4Proxy(const std::string& upstream, const std::string& access_key, const std::string& secret_key,
             const std::string& region);
};

}  // namespace mlctl::test
