#include <mlctl/pipeline/submit/multipart.hpp>

#include <mlctl/core/digest.hpp>

#include <fmt/format.h>

namespace mlctl::pipeline {

namespace {

// A name inside a quoted Content-Disposition parameter (RFC 7578 4.2).
std::string quoted_name(std::string_view name) {
  std::string out;
  for (char c : name) {
    if (c == '"' || c == '\r' || c == '\n') {
      out += fmt::format("%{:02X}", static_cast<unsigned char>(c));
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::string boundary_for(std::span<const FormFile> files) {
  core::Sha256 hash;
  for (const auto& file : files) {
    hash.update(file.field);
    hash.update(file.filename);
    hash.update(file.content);
  }
  return "mlctl-" + hash.hex().substr(0, 32);
}

}  // namespace

FormBody multipart_form(std::span<const FormFile> files) {
  std::string boundary = boundary_for(files);
  FormBody body{"multipart/form-data; boundary=" + boundary, {}};
  for (const auto& file : files) {
    body.bytes += fmt::format(
        "--{}\r\nContent-Disposition: form-data; name=\"{}\"; filename=\"{}\"\r\n"
        "Content-Type: {}\r\n\r\n",
        boundary, quoted_name(file.field), quoted_name(file.filename), file.content_type);
    body.bytes += file.content;
    body.bytes += "\r\n";
  }
  body.bytes += fmt::format("--{}--\r\n", boundary);
  return body;
}

}  // namespace mlctl::pipeline
