#pragma once

#include <mlctl/core/error.hpp>

#include <string>
#include <string_view>

namespace mlctl::oci::remote {

inline constexpr std::string_view k_docker_hub = "docker.io";
inline constexpr std::string_view k_default_tag = "latest";

// An image reference split into the registry to talk to, the repository in it, and what names
// the manifest there. Docker Hub names are normalised as docker does ("python" is
// "docker.io/library/python:latest").
struct Reference {
  std::string registry;    // "docker.io", "ghcr.io", "127.0.0.1:5000", "[::1]:5000"
  std::string repository;  // "library/python", "ml/fraud-detector"
  std::string tag;         // empty when only a digest was given
  std::string digest;      // "sha256:<64 hex>" or empty

  // The canonical form: "docker.io/library/python:3.11", "ghcr.io/a/b:1@sha256:...".
  std::string str() const;
  // What names the manifest in /v2/<repository>/manifests/<identifier>: the digest when there
  // is one (it pins the content), else the tag.
  std::string identifier() const;
  // The host[:port] to connect to: Docker Hub's API lives on registry-1.docker.io.
  std::string api_host() const;

  bool operator==(const Reference&) const = default;
};

// Parses `[host[:port]/]path[:tag][@sha256:hex]` following the distribution reference grammar.
// A reference with neither tag nor digest gets the tag "latest". Fails with Errc::invalid and
// a message that names the broken rule.
Result<Reference> parse_reference(std::string_view text);

}  // namespace mlctl::oci::remote
