#pragma once

#include <support/temp_dir.hpp>

#include <sys/types.h>

#include <filesystem>
#include <string>

namespace mlctl::test {

// s3rver (an S3-compatible server from npm, installed into a cache folder by
// scripts/install-npm-deps) on 127.0.0.1 and a free port, with the bucket `models`, storing in a
// temporary folder and logging every request to a file. Its one account is access key "S3RVER",
// secret "S3RVER". It checks the access key id and the form of SigV4 headers (x-amz-date,
// x-amz-content-sha256), not the signature itself. Throws std::runtime_error when it cannot
// start (a missing node or npm is a failure, never a skip); killed by the destructor.
class S3Server {
public:
  S3Server();
  ~S3Server();
  S3Server(const S3Server&) = delete;
  S3Server& operator=(const S3Server&) = delete;

  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(port_); }
  std::string log() const;

private:
  TempDir dir_;
  int port_ = 0;
  pid_t pid_ = -1;
};

}  // namespace mlctl::test
