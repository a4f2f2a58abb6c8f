#pragma once

#include <mlctl/models/artifact_store.hpp>

#include <chrono>
#include <string>
#include <string_view>

namespace mlctl::models {

// How to reach S3 or an S3-compatible store. The secret and the session token never appear in
// an error or a reporter line.
struct S3Config {
  std::string access_key_id{};      // AWS_ACCESS_KEY_ID
  std::string secret_access_key{};  // AWS_SECRET_ACCESS_KEY
  std::string session_token{};      // AWS_SESSION_TOKEN, sent as x-amz-security-token
  std::string region = "us-east-1";  // AWS_REGION
  // MLCTL_S3_ENDPOINT ("http://127.0.0.1:4568", "https://minio.example:9000"): path-style
  // addressing ("<endpoint>/<bucket>/<key>"). Empty: AWS, virtual-hosted style
  // ("https://<bucket>.s3.<region>.amazonaws.com/<key>").
  std::string endpoint{};
  std::chrono::seconds connect_timeout{30};
  // A transfer slower than 1 KiB/s for this long is abandoned: a stalled connection must not
  // hang a CI job.
  std::chrono::seconds low_speed_time{60};

  static S3Config from_environment();
};

// The bucket and key prefix of "s3://bucket[/prefix]". The bucket follows S3's naming rules
// (3-63 of a-z 0-9 . -); the prefix may hold A-Z a-z 0-9 and "/._-~" only, so the object's URL
// needs no escaping that a signer could disagree on. Errc::invalid otherwise.
struct S3Location {
  std::string bucket{};
  std::string prefix{};  // without leading or trailing '/'
};
Result<S3Location> parse_s3_location(std::string_view location);

// The object key of an artifact: "<prefix>/sha256/<hex>" ("sha256/<hex>" without a prefix).
std::string s3_object_key(const S3Location& location, std::string_view hex);

// A store keeping each artifact as one object, "<prefix>/sha256/<hex>": a file's bytes or a
// directory's deterministic tar. Requests are signed by libcurl (AWS SigV4, service s3) with
// x-amz-content-sha256 set to the payload's hash; TLS peers are verified. put sends a HEAD first
// and skips the upload when the object is there with the same size. uri: "s3://bucket/key".
// Without credentials the requests go unsigned (a public bucket). Failures from the server are
// Errc::remote (Errc::not_found for a missing object on get).
Result<std::unique_ptr<ArtifactStore>> open_s3_store(std::string_view location, S3Config config);

}  // namespace mlctl::models
